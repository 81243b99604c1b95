"""How documented blocks are read and planned (tests/support/docs_blocks.py): fast, no process."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.docs_blocks import (
    DocsRunError,
    commands,
    parse_annotation,
    plans,
    read_blocks,
    smallest,
)

DOC = """# A doc

## Running

<!-- docs-run: file="mix.toml" -->
```toml
a = 1
```

<!-- docs-run: background, for="serve", ready="http://127.0.0.1:8421/v1/health" -->
<!-- docs-run: long, smallest="--devices 20" -->
```sh
vendor-server serve --data d \\
    --speed 0            # frozen
phone-sim fleet --devices 10000 --mix mix.toml   # big
```

```sh
TOKEN=$(cat d/admin.token)
curl -s http://127.0.0.1:8421/admin/devices
```

## Elsewhere

<!-- docs-run: with="vendor-server serve --data d --speed 0", ready="http://127.0.0.1:8421/" -->
```sh
vendor-server admin list
```

<!-- docs-run: terminal, expect="Welcome" -->
<!-- docs-run: skip, for="make test", reason="it is this suite" -->
```sh
make run
make test
```

```python
def test_it(phone):
    phone.boot()
```

```console
$ phone-sim catalogue
Models (markets):
```
"""


@pytest.fixture
def doc(tmp_path: Path) -> Path:
    (tmp_path / "DOC.md").write_text(DOC)
    return tmp_path


def test_a_block_gets_the_annotations_above_it_and_its_section(doc: Path) -> None:
    blocks = read_blocks(doc, "DOC.md")
    assert [(b.line, b.language, b.section) for b in blocks] == [
        (6, "toml", "Running"),
        (12, "sh", "Running"),
        (18, "sh", "Running"),
        (26, "sh", "Elsewhere"),
        (32, "sh", "Elsewhere"),
        (37, "python", "Elsewhere"),
        (42, "console", "Elsewhere"),
    ]
    assert blocks[0].file == "mix.toml"
    assert [a.mode for a in blocks[1].annotations] == ["background", "long"]


def test_commands_join_continuations_and_leave_out_comments_and_output(doc: Path) -> None:
    blocks = read_blocks(doc, "DOC.md")
    assert commands(blocks[1]) == [
        "vendor-server serve --data d     --speed 0            # frozen",
        "phone-sim fleet --devices 10000 --mix mix.toml   # big",
    ]
    assert commands(blocks[6]) == ["phone-sim catalogue"]


def test_a_plan_brings_the_files_and_the_section_s_server_before_its_own_steps(doc: Path) -> None:
    by_line = {p.block.line: p for p in plans(doc, ["DOC.md"])}
    assert set(by_line) == {12, 18, 26, 32, 37, 42}  # the TOML block is a file, not a test

    first = by_line[12]
    assert first.files == (("mix.toml", "a = 1\n"),)
    assert [(s.kind, s.command) for s in first.steps] == [
        ("background", "vendor-server serve --data d     --speed 0            # frozen"),
        ("run", "phone-sim fleet --devices 20 --mix mix.toml"),
    ]
    assert first.test_id == "DOC.md:12 as: phone-sim fleet --devices 20 --mix mix.toml"

    # The next block of the section starts the server again for itself.
    assert [s.kind for s in by_line[18].steps] == ["background", "run", "run"]
    assert by_line[18].steps[0].origin == "DOC.md:12"
    # Another section does not, unless it says with= (a command the document shows).
    assert [(s.kind, s.origin) for s in by_line[26].steps] == [
        ("background", "DOC.md:26"),
        ("run", "DOC.md:26"),
    ]
    assert [(s.kind, s.command) for s in by_line[32].steps] == [
        ("terminal", "make run"),
        ("skip", "make test"),
    ]
    assert by_line[32].steps[1].reason == "it is this suite"
    assert [s.kind for s in by_line[37].steps] == ["pytest"]


@pytest.mark.parametrize(
    ("command", "args", "expected"),
    [
        ("phone-sim fleet --devices 10000 -q", "--devices 20", "phone-sim fleet --devices 20 -q"),
        ("make bench", 'BENCH_ARGS="--smoke"', "make bench BENCH_ARGS=--smoke"),
        (
            'make bench BENCH="a b" BENCH_ARGS="--quick"  # note',
            'BENCH_ARGS="--smoke"',
            "make bench 'BENCH=a b' BENCH_ARGS=--smoke",
        ),
        ("locust -u 200 -t 60s --host h", "-u 4 -t 3s", "locust -u 4 -t 3s --host h"),
        (
            "phone-sim fleet --devices 10000",
            '--devices 20 BENCH_ARGS="--smoke"',
            "phone-sim fleet --devices 20",
        ),
    ],
)
def test_the_smallest_rule(command: str, args: str, expected: str) -> None:
    assert smallest(command, args) == expected


def test_a_long_command_the_rule_does_not_change_is_an_error() -> None:
    with pytest.raises(DocsRunError, match="changes nothing"):
        smallest("phone-sim fleet --checkins 3", "--devices 20")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('terminal, expekt="x"', "unknown key"),
        ("terminal", "needs expect="),
        ('background, for="x"', "needs ready="),
        ("quick", "unknown or second mode"),
        ('with="serve"', "with= needs ready="),
        ("skip, reason=unquoted", "cannot read"),
    ],
)
def test_a_malformed_annotation_says_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(DocsRunError, match=message):
        parse_annotation(text, "DOC.md:3")


def test_with_must_name_a_command_the_document_shows(tmp_path: Path) -> None:
    (tmp_path / "D.md").write_text(
        '<!-- docs-run: with="vendor-server serve --data elsewhere", ready="http://x/" -->\n'
        "```sh\nvendor-server admin list\n```\n"
    )
    with pytest.raises(DocsRunError, match="names no command"):
        plans(tmp_path, ["D.md"])


def test_an_annotation_must_stand_above_a_block(tmp_path: Path) -> None:
    (tmp_path / "D.md").write_text('<!-- docs-run: skip, reason="x" -->\nSome prose.\n')
    with pytest.raises(DocsRunError, match="right above a block"):
        read_blocks(tmp_path, "D.md")
