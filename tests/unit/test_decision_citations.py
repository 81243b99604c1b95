"""Code cites a measured choice by its decision record's file name (docs/decisions/), and every
record cited exists and is listed in docs/decisions/README.md.

docs/PERFORMANCE.md is a one-page reference whose sections and items are not stable: a comment
citing "PERFORMANCE.md, item 15" would point at nothing once the page changes, so none may.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DECISIONS = ROOT / "docs" / "decisions"
#: where code (and its comments) lives
CODE = ["phone_sim", "server_stub", "bench", "tests"]
CODE_FILES = ["pyproject.toml", "Makefile"]
CITATION = re.compile(r"docs/decisions/([\w.-]+\.md)")
#: "PERFORMANCE.md" followed, within the same sentence, by an item, section or number
BY_NUMBER = re.compile(r"PERFORMANCE\.md[^.\n]{0,40}?\b(item|items|section|§)\s*\d", re.I)


def _code() -> dict[Path, str]:
    files = [p for d in CODE for p in (ROOT / d).rglob("*") if p.suffix in (".py", ".toml", ".lua")]
    files += [ROOT / name for name in CODE_FILES]
    # This file quotes the old citations on purpose, to test the patterns.
    skip = {Path(__file__).resolve()}
    return {
        p: p.read_text(encoding="utf-8")
        for p in files
        if "__snapshots__" not in p.parts and p.resolve() not in skip
    }


def citations(text: str) -> list[str]:
    return CITATION.findall(text)


def by_number(text: str) -> list[str]:
    return [m.group(0) for m in BY_NUMBER.finditer(text)]


def test_every_decision_record_cited_in_code_exists() -> None:
    cited = {(path, name) for path, text in _code().items() for name in citations(text)}
    assert cited, "no code cites a decision record: the check would prove nothing"
    missing = [
        f"{p.relative_to(ROOT)}: {n}" for p, n in sorted(cited) if not (DECISIONS / n).is_file()
    ]
    assert not missing


def test_no_code_cites_performance_md_by_item_or_section_number() -> None:
    found = [
        f"{p.relative_to(ROOT)}: {hit}" for p, text in _code().items() for hit in by_number(text)
    ]
    assert not found


def test_only_the_benchmarks_name_performance_md() -> None:
    # The benchmarks write the figures that page shows; anything else that names it is a
    # choice to cite by its decision record instead.
    allowed = {"bench", "Makefile", "test_bench_smoke.py"}
    found = [
        str(p.relative_to(ROOT))
        for p, text in _code().items()
        if "PERFORMANCE.md" in text and not allowed & {*p.relative_to(ROOT).parts}
    ]
    assert not found


def test_the_checks_recognise_what_they_look_for() -> None:
    # The patterns themselves, on the citations this repository used to have and has now.
    assert by_number("imports this module again (docs/PERFORMANCE.md, item 15).")
    assert by_number("FastAPI) into processes (docs/PERFORMANCE.md, section 6, item 15).")
    assert not by_number("the figures go into docs/PERFORMANCE.md.")
    assert citations("(docs/decisions/lazy-subcommand-imports.md)") == [
        "lazy-subcommand-imports.md"
    ]


def test_the_index_lists_every_record_and_only_those() -> None:
    records = {p.name for p in DECISIONS.glob("*.md")} - {"README.md"}
    index = (DECISIONS / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"\]\(([\w.-]+\.md)\)", index))
    assert records and listed == records
