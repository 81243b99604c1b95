"""docs/SECURITY.md names a test for every defence; each one must exist (and, in the suite, pass).

A renamed or deleted test would otherwise leave the threat model claiming a proof it no longer
has. The names are checked against pytest's own collection of the files they point to, so a
parametrized case (``test_x[some id]``) must exist as that exact case.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.collected import COLLECTED

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "SECURITY.md"
REFERENCE = re.compile(r"`(tests/[\w/]+\.py::[^`]+)`")


def _collected(files: list[str], session_ids: set[str]) -> set[str]:
    """The node ids pytest collects from ``files``: this session's collection when it took in
    every one of them (the whole suite does), else a collection of their own."""
    if all(any(node.startswith(f"{file}::") for node in session_ids) for file in files):
        return session_ids
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *files],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert collected.returncode == 0, collected.stdout[-2000:] + collected.stderr[-2000:]
    return {line.strip() for line in collected.stdout.splitlines() if "::" in line}


def test_every_test_named_in_security_md_exists(request: pytest.FixtureRequest) -> None:
    named = set(REFERENCE.findall(DOC.read_text()))
    assert len(named) > 60  # the tables did not silently stop matching the pattern
    files = sorted({name.split("::", 1)[0] for name in named})
    ids = _collected(files, request.config.stash.get(COLLECTED, set()))
    # A name without a parameter stands for all its cases (or a TestCase's methods); with one,
    # for exactly that case.
    missing = sorted(
        name
        for name in named
        if not any(node == name or node.startswith((f"{name}[", f"{name}::")) for node in ids)
    )
    assert not missing, "docs/SECURITY.md names tests that do not exist:\n" + "\n".join(missing)


def test_every_row_of_the_proof_tables_names_a_test() -> None:
    # Sections 2 to 5 are the tables of defences; section 1 (who attacks) has no tests.
    sections = re.split(r"^## ", DOC.read_text(), flags=re.MULTILINE)
    tables = [s for s in sections if s[:2] in ("2.", "3.", "4.", "5.")]
    assert len(tables) == 4
    rows = [
        line
        for section in tables
        for line in section.splitlines()
        if line.startswith("|") and not set(line) <= set("|- ")
    ]
    headers = {"| attack | defence | test |", "| threat | defence | test |", "| property | test |"}
    body = [row for row in rows if row not in headers]
    assert len(body) > 30
    for row in body:
        assert REFERENCE.search(row.rsplit("|", 2)[-2]), f"no test named in: {row[:90]}"
