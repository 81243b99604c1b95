"""The device model, protocol, client and server load without Textual (harlequin's check).

import-linter proves no module imports Textual statically; this proves nothing pulls it in at
run time either, by importing each headless module in a fresh interpreter.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

HEADLESS = [
    "phone_sim.protocol.signing",
    "phone_sim.protocol.identity",
    "phone_sim.device.phone",
    "phone_sim.device.provisioning",
    "phone_sim.client.vendor_client",
    "phone_sim.simulation",
    "phone_sim.cli",
    "phone_sim.scenario.runner",
    "phone_sim.fleet.runner",
    "phone_sim.fleet.cli",
    "phone_sim.pytest_plugin",
    "server_stub.app",
    "server_stub.embedded",
]


@pytest.mark.parametrize("module", HEADLESS)
def test_module_does_not_load_textual(module: str) -> None:
    code = f"import sys, {module}; sys.exit('textual' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"{module} pulled in textual\n{result.stderr}"


def test_the_check_itself_can_fail() -> None:
    code = "import sys, phone_sim.ui.app; sys.exit('textual' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 1, result.stderr
