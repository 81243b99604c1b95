"""The README's Layout section matches the tree: every room (package) is listed, and every
path it names exists. A new folder or a renamed one fails here until the README says so."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def layout() -> str:
    text = (ROOT / "README.md").read_text()
    return text.split("## Layout", 1)[1].split("\n## ", 1)[0]


def rooms() -> set[str]:
    """Every room of the two top packages, as ``phone_sim/world/``, but data-only packages.

    A room's own sub-folders (``ui/screens/``) are the room's business: its docstring says.
    """
    found = set()
    for top in ("phone_sim", "server_stub"):
        for init in (ROOT / top).glob("*/__init__.py"):
            folder = init.parent
            if not any(p.suffix == ".py" and p.name != "__init__.py" for p in folder.iterdir()):
                continue  # a data-only package (packaged files)
            found.add(folder.relative_to(ROOT).as_posix() + "/")
    return found


def test_every_room_is_listed() -> None:
    text = layout()
    missing = sorted(room for room in rooms() if f"`{room}`" not in text)
    assert not missing, f"README Layout does not list: {missing}"


def test_every_path_the_layout_names_exists() -> None:
    named = re.findall(r"`((?:phone_sim|server_stub|bench|docs|tests)[\w/.-]*)`", layout())
    assert named, "the Layout section names no path"
    missing = [path for path in named if not (ROOT / path).exists()]
    assert not missing, f"README Layout names paths that do not exist: {missing}"


def test_documents_name_only_files_of_the_repository() -> None:
    """A path the docs name in backticks (``docs/X.md``, ``phone_sim/...``, ``tests/...::test``,
    ``../Y``) is in the repository: the README named ``../shared/STORY.md``, which exists beside
    the workplace's checkout and in no clone, and SCENARIOS.md a module since moved."""
    pattern = r"`((?:\.\./|docs/|phone_sim/|server_stub/|tests/|bench/|scenarios/)[\w/.*-]*)"
    problems = []
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        text = doc.read_text(encoding="utf-8")
        for named in sorted(set(re.findall(pattern, text))):
            path = named.rstrip(".")
            if doc.parent.name == "decisions" and not path.startswith(("docs/", "../")):
                continue  # a decision cites the code of its day, rejected code included
            where = (doc.parent / path if path.startswith("../") else ROOT / path).resolve()
            if not where.is_relative_to(ROOT):
                problems.append(f"{doc.relative_to(ROOT)}: {named} is outside the repository")
            elif not (where.exists() or any(ROOT.glob(path))):
                problems.append(f"{doc.relative_to(ROOT)}: {named} does not exist")
        for link in sorted(set(re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text))):
            if re.match(r"[a-z]+:", link):
                continue  # a web address
            if not (doc.parent / link).resolve().exists():
                problems.append(f"{doc.relative_to(ROOT)}: the link {link} leads nowhere")
    assert not problems, "\n".join(problems)
