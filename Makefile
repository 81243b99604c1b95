# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DATA ?= .phone-sim-data
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test check lint typecheck imports pytest bench serve-vendor test-snapshot-update clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,load]'
	touch $@ $(STAMP)

## Launch the phone with an embedded vendor server (loopback, ephemeral port, state under $(DATA)).
run: $(STAMP)
	$(BIN)/phone-sim --data $(DATA)

## Run the vendor server on its own: a simulated world of its own (not make run's), at the story's
## start the first time and where it was left after that; `phone-sim --data $(DATA)/standalone
## --server http://127.0.0.1:8421` joins it.
serve-vendor: $(STAMP)
	$(BIN)/vendor-server serve --host 127.0.0.1 --port 8421 --data $(DATA)/standalone/vendor --init-factory --clock simulated

## Everything CI checks.
test: check

check: $(DEV_STAMP) lint typecheck imports pytest

lint: $(DEV_STAMP)
	$(BIN)/ruff format --check phone_sim server_stub tests bench
	$(BIN)/ruff check phone_sim server_stub tests bench

typecheck: $(DEV_STAMP)
	$(BIN)/mypy

imports: $(DEV_STAMP)
	$(BIN)/lint-imports

pytest: $(DEV_STAMP)
	$(BIN)/pytest -n 2 -q

## Benchmarks (figures, not tests; docs/PERFORMANCE.md). BENCH="roundtrip store" picks some;
## BENCH_ARGS="--quick" is a first look, "--smoke" only checks that every part runs. wrk (apt-get install wrk) is used when present.
bench: $(DEV_STAMP)
	$(BIN)/python -m bench $(BENCH) $(BENCH_ARGS)

## Accept new lock-screen/UI snapshots (look at each one first: tests/functional/__snapshots__).
test-snapshot-update: $(DEV_STAMP)
	$(BIN)/pytest tests/functional -k snapshot --snapshot-update

clean:
	rm -rf $(VENV) $(DATA) .mypy_cache .ruff_cache .pytest_cache
