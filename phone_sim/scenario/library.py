"""The scenarios shipped with phone-sim (``phone_sim/scenarios/*.toml``), found by name."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from phone_sim.tomlfile import unknown

from .errors import ScenarioError, ScenarioNotFound
from .parser import load_scenario

LIBRARY_PACKAGE = "phone_sim.scenarios"


def library_dir() -> Path:
    # Installed as plain files (setuptools package data), so the package is a directory.
    return Path(str(resources.files(LIBRARY_PACKAGE)))


def shipped() -> list[Path]:
    """Every shipped scenario file, by name."""
    return sorted(library_dir().glob("*.toml"))


def resolve(name: str, *, base: Path | None = None) -> Path:
    """A scenario file: ``name`` as a path (relative to ``base`` first, if given), else the
    shipped scenario of that name (``cubacel-locked-after-3-days``).

    Raises:
        ScenarioNotFound: neither exists; the message suggests the closest shipped name.
    """
    candidates = [Path(name)]
    if base is not None and not Path(name).is_absolute():
        candidates.insert(0, base / name)
    for path in candidates:
        if path.is_file():
            return path
    stem = name.removesuffix(".toml")
    path = library_dir() / f"{stem}.toml"
    if "/" not in stem and path.is_file():
        return path
    names = [p.stem for p in shipped()]
    raise ScenarioNotFound(name, "no such file, and " + unknown(stem, names, "scenario"))


def listing() -> list[tuple[str, str]]:
    """``(name, description)`` of each shipped scenario (a bad one says so in its line)."""
    rows = []
    for path in shipped():
        try:
            rows.append((path.stem, load_scenario(path).description or "(no description)"))
        except ScenarioError as exc:
            rows.append((path.stem, f"(cannot be read: {exc.reason})"))
    return rows
