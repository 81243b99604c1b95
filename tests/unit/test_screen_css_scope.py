"""Every rule of every screen's stylesheet is scoped to its screen (STYLE.md item 16).

A screen's ``CSS_PATH`` stylesheet applies to the whole app once the screen has been shown:
the lock screen's bare ``#lock { height: 1fr }`` also styled the vendor console's Lock button
(issue #15). This test parses each screen's ``.tcss`` with Textual's own parser and fails on
any rule whose selector does not start with the screen's class name.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest
from textual.app import App
from textual.css.stylesheet import Stylesheet
from textual.screen import Screen

import phone_sim.ui.screens as screens_package


def screen_classes() -> list[type[Screen[object]]]:
    found: list[type[Screen[object]]] = []
    for info in pkgutil.iter_modules(screens_package.__path__):
        module = importlib.import_module(f"{screens_package.__name__}.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Screen) and cls.__module__ == module.__name__ and cls.CSS_PATH:
                found.append(cls)
    return found


def unscoped_selectors(css: str, path: Path, screen: str) -> list[str]:
    """The selectors in ``css`` that do not start with ``screen``."""
    # The theme's variables ($accent, $error...) as the app defines them.
    sheet = Stylesheet(variables=App().get_css_variables())
    sheet.add_source(css, read_from=(str(path), ""))
    sheet.parse()
    bad = []
    for rule in sheet.rules:
        for selector_set in rule.selector_set:
            first = selector_set.selectors[0]
            if first.name != screen:
                bad.append(selector_set.css)
    return bad


def test_the_scope_check_catches_a_bare_id() -> None:
    # The rule that broke the console, and its scoped form.
    assert unscoped_selectors("#lock { height: 1fr; }", Path("x.tcss"), "LockScreen") == ["#lock"]
    assert (
        unscoped_selectors("LockScreen #lock { height: 1fr; }", Path("x.tcss"), "LockScreen") == []
    )


def test_every_screen_with_a_stylesheet_is_checked() -> None:
    names = {cls.__name__ for cls in screen_classes()}
    assert {"LockScreen", "VendorConsoleScreen", "SimTrayScreen", "BootScreen"} <= names


@pytest.mark.parametrize("screen", screen_classes(), ids=lambda cls: cls.__name__)
def test_every_rule_is_scoped_to_its_screen(screen: type[Screen[object]]) -> None:
    paths = screen.CSS_PATH if isinstance(screen.CSS_PATH, list) else [screen.CSS_PATH]
    directory = Path(inspect.getfile(screen)).parent
    for name in paths:
        path = directory / str(name)
        bad = unscoped_selectors(path.read_text(), path, screen.__name__)
        assert not bad, f"{path.name}: rules not scoped to {screen.__name__}: {bad}"
