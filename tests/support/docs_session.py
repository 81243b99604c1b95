"""Running the documented blocks for the tests: where, in what, how many at once, and sharing
each block's result between the tests that ask for it (tests/functional/test_docs_run.py, and
test_bench_smoke.py, which checks the documented ``make bench`` run at its smallest size).

Each block runs in a fresh directory that looks like a checkout: links to the repository's
files (``.venv`` among them; never its ``.phone-sim-data``), and the files that earlier blocks
of the same document name. Where Linux allows it, in a network namespace of its own, so a
documented port (8421) meets neither a developer's server nor another block's. Blocks run side
by side: each process running the tests (one, or each pytest-xdist worker) starts the blocks
nobody has claimed yet (a claim file each, in a directory the processes share) a few at a
time, and each test waits for its own block's result.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

import pytest

from tests.support.docs_blocks import Plan, plans

ROOT = Path(__file__).resolve().parents[2]
DOCS = ["README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))]
PLANS = plans(ROOT, DOCS)
#: blocks one process runs at once: under pytest-xdist each worker also runs other tests beside
#: them, and several tests wait on timers that a crowded machine makes late
AT_ONCE = 1 if os.environ.get("PYTEST_XDIST_WORKER") else 3
#: longest wait for a block another process runs
WAIT = 600.0
#: what a checkout's directory holds that a block must not see
NOT_LINKED = {".git", ".phone-sim-data", ".mypy_cache", ".ruff_cache", ".pytest_cache"}


@functools.cache
def can_isolate_network() -> bool:
    """Whether this process may make a network namespace of its own (a user namespace too)."""
    if not sys.platform.startswith("linux") or shutil.which("unshare") is None:
        return False
    probe = ["unshare", "--net", "--map-root-user", "true"]
    return subprocess.run(probe, capture_output=True, check=False).returncode == 0


def checkout_like(directory: Path) -> None:
    """The repository's directories linked, its top-level files copied (a command that writes
    one, as ``make lock`` writes constraints.txt, must not write the checkout's), with their
    times: ``make`` compares them with .venv's."""
    for entry in ROOT.iterdir():
        if entry.name in NOT_LINKED or entry.name.endswith(".egg-info"):
            continue
        if entry.is_file() and not entry.is_symlink():
            shutil.copy2(entry, directory / entry.name)
        else:
            (directory / entry.name).symlink_to(entry)
    # The venv is the one running these tests, and up to date for them: make must never
    # reinstall it from here (a reinstall through the linked .venv would write this temporary
    # directory into its scripts). So the install's inputs are dated before its stamp.
    stamp = ROOT / ".venv" / ".installed"
    if stamp.exists():
        before = stamp.stat().st_mtime - 60
        for name in INSTALL_INPUTS:
            copied = directory / name
            if copied.exists() and copied.stat().st_mtime > before:
                os.utime(copied, (before, before))


#: what the Makefile's install stamps depend on
INSTALL_INPUTS = ("pyproject.toml", "constraints.txt")


@contextmanager
def port_turn() -> Iterator[None]:
    """A turn on the documented port (8421) that every process of this machine respects."""
    with open(Path(tempfile.gettempdir()) / "phone-sim-docs-run-port.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


@contextmanager
def _port_turn(plan: Plan, *, isolated: bool) -> Iterator[None]:
    """Without a network namespace, blocks that serve on the documented port take turns (a lock
    every process of this machine sees); a developer's own server on it makes them fail."""
    if isolated or not any(s.kind in ("server", "background") for s in plan.steps):
        yield
        return
    with port_turn():
        yield


def run_block(plan: Plan, results: Path) -> None:
    """Run ``plan`` in a fresh directory; its outcomes to ``results`` (JSON)."""
    with tempfile.TemporaryDirectory(prefix="docs-run-") as tmp:
        root = Path(tmp)
        checkout_like(root)
        for name, text in plan.files:
            (root / name).write_text(text, encoding="utf-8")
        isolate = can_isolate_network()
        spec = {"namespace": isolate, "steps": [asdict(s) for s in plan.steps]}
        (root / "docs-run-plan.json").write_text(json.dumps(spec))
        runner = [sys.executable, "-m", "tests.support.docs_runner"]
        runner += ["docs-run-plan.json", "docs-run-result.json"]
        if isolate:
            runner = ["unshare", "--net", "--map-root-user", "--", *runner]
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
        env["PATH"] = f"{root / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        env.pop("VIRTUAL_ENV", None)
        with _port_turn(plan, isolated=isolate):
            done = subprocess.run(runner, cwd=root, env=env, capture_output=True, check=False)
        out = root / "docs-run-result.json"
        outcomes = json.loads(out.read_text()) if out.exists() else []
        if not out.exists():
            outcomes = [{"passed": False, "kind": "runner", "command": " ".join(runner),
                         "origin": plan.block.where, "seconds": 0.0,
                         "detail": done.stderr.decode(errors="replace")[-3000:]}]  # fmt: skip
    tmp_results = results.with_suffix(".part")
    tmp_results.write_text(json.dumps(outcomes))
    tmp_results.replace(results)


class Blocks:
    """Which blocks run where: a claim file each, taken by the first process to start it."""

    def __init__(self, shared: Path, selected: list[Plan]) -> None:
        self.shared = shared
        self.selected = selected
        self.pool = ThreadPoolExecutor(AT_ONCE, thread_name_prefix="docs-run")
        self.started: dict[str, Future[None]] = {}
        self.lock = threading.Lock()

    def _key(self, plan: Plan) -> str:
        return hashlib.sha256(plan.block.where.encode()).hexdigest()[:16]

    def result_path(self, plan: Plan) -> Path:
        return self.shared / f"{self._key(plan)}.json"

    def _claim(self, plan: Plan) -> bool:
        try:
            os.close(os.open(self.shared / f"{self._key(plan)}.claim", os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            return False
        return True

    def start_all(self) -> None:
        for plan in self.selected:
            self.pool.submit(self._run_if_unclaimed, plan)

    def _run_if_unclaimed(self, plan: Plan) -> None:
        if self._claim(plan):
            run_block(plan, self.result_path(plan))

    def outcomes(self, plan: Plan) -> list[dict[str, object]]:
        """The block's outcomes: run here if no process has claimed it, else waited for."""
        path = self.result_path(plan)
        if self._claim(plan):
            run_block(plan, path)
        deadline = time.monotonic() + WAIT
        while not path.exists():
            if time.monotonic() > deadline:
                pytest.fail(f"{plan.block.where}: no result within {WAIT:.0f} s")
            time.sleep(0.1)
        outcomes: list[dict[str, object]] = json.loads(path.read_text())
        return outcomes


@pytest.fixture(scope="session")
def blocks(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Blocks]:
    base = tmp_path_factory.getbasetemp()
    # Under pytest-xdist every worker has its own directory under one that the run shares.
    shared = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "docs-run"
    shared.mkdir(exist_ok=True)
    stale = subprocess.run(["make", "-q", ".venv/.installed"], cwd=ROOT, check=False)
    if stale.returncode != 0:
        pytest.fail(
            ".venv is older than pyproject.toml: `make test` (or `make run`) installs it first"
        )
    selected_ids = {
        item.callspec.id for item in request.session.items
        if item.originalname == "test_documented_block" and hasattr(item, "callspec")
    }  # fmt: skip
    selected = [p for p in PLANS if p.test_id in selected_ids and not all_skipped(p)]
    runner = Blocks(shared, sorted(selected, key=_expected_cost, reverse=True))
    runner.start_all()
    yield runner
    runner.pool.shutdown(wait=True, cancel_futures=True)


def all_skipped(plan: Plan) -> bool:
    return all(s.kind == "skip" for s in plan.steps)


def _expected_cost(plan: Plan) -> int:
    """Heavier blocks first, so that none is left running alone at the end."""
    weights = {"terminal": 4, "pytest": 3, "background": 2, "server": 2, "python": 1}
    return sum(weights.get(s.kind, 1) for s in plan.steps) + 6 * sum(
        1 for s in plan.steps if s.written
    )
