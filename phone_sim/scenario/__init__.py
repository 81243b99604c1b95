"""Scripted scenarios: TOML files of steps and expectations, run headless on the device model.

``parser`` reads and checks a file, ``driver`` holds the verbs (``PhoneDriver``), ``runner``
plays the steps and prints them, ``junit`` reports for CI, ``cli`` is ``phone-sim scenario``.
``docs/SCENARIOS.md`` is the reference.
"""

from .driver import PhoneDriver, RemoteServer
from .errors import DriverError, ExpectationFailed, ScenarioError
from .library import resolve
from .model import DeviceSpec, PolicySpec, Scenario, Step
from .parser import load_scenario, parse_scenario
from .runner import ScenarioResult, StepResult, run

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
