"""Scripted scenarios: TOML files of steps and expectations, run headless on the device model.

``steps`` is the registry of step kinds (name, argument model from ``step_args``, action),
``schema`` the models a file is validated with, ``parser`` reads and checks a file, ``driver``
holds the verbs (``PhoneDriver``), ``runner`` plays the steps through the registry and prints
them, ``junit`` reports for CI, ``cli`` is ``phone-sim scenario``. ``docs/SCENARIOS.md`` is the
reference.

The names below are loaded when first used (PEP 562), not when the package is: ``phone-sim``
imports ``.cli`` to build its parser, and every process the fleet spawns imports ``phone-sim``
again, so an eager import here would load the driver's whole stack (the embedded vendor server,
FastAPI) into processes that never run a scenario (docs/decisions/lazy-subcommand-imports.md).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .driver import PhoneDriver, RemoteServer
    from .errors import DriverError, ExpectationFailed, ScenarioError
    from .library import resolve
    from .model import DeviceSpec, PolicySpec, Scenario, Step
    from .parser import load_scenario, parse_scenario
    from .runner import ScenarioResult, StepResult, run

_HOMES = {
    "PhoneDriver": "driver",
    "RemoteServer": "driver",
    "DriverError": "errors",
    "ExpectationFailed": "errors",
    "ScenarioError": "errors",
    "resolve": "library",
    "DeviceSpec": "model",
    "PolicySpec": "model",
    "Scenario": "model",
    "Step": "model",
    "load_scenario": "parser",
    "parse_scenario": "parser",
    "ScenarioResult": "runner",
    "StepResult": "runner",
    "run": "runner",
}

__all__ = [
    "DeviceSpec",
    "DriverError",
    "ExpectationFailed",
    "PhoneDriver",
    "PolicySpec",
    "RemoteServer",
    "Scenario",
    "ScenarioError",
    "ScenarioResult",
    "Step",
    "StepResult",
    "load_scenario",
    "parse_scenario",
    "resolve",
    "run",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value  # once loaded, a plain attribute
    return value
