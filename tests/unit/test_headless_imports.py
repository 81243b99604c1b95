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
    "phone_sim.world.world",
    "phone_sim.world.launch",
    "phone_sim.cli",
    "phone_sim.scenario.runner",
    "phone_sim.fleet.runner",
    "phone_sim.fleet.cli",
    "phone_sim.pytest_plugin",
    "server_stub.api.app",
    "server_stub.runtime.embedded",
]


def _textual_loaded_by(modules: list[str]) -> bool:
    code = f"import sys, {', '.join(modules)}; sys.exit('textual' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode in (0, 1), result.stderr
    return result.returncode == 1


def test_no_headless_module_loads_textual() -> None:
    # One fresh interpreter for all of them: an import only ever adds to sys.modules, so
    # Textual absent after importing every module means absent after importing any one. When
    # it is there, each module alone says which pulled it in.
    if _textual_loaded_by(HEADLESS):
        culprits = [module for module in HEADLESS if _textual_loaded_by([module])]
        pytest.fail(f"pulled in textual: {', '.join(culprits) or 'only all of them together'}")


def test_the_check_itself_can_fail() -> None:
    assert _textual_loaded_by(["phone_sim.protocol.signing", "phone_sim.ui.app"])


#: the vendor server's stack, which a phone process never uses
SERVER_STACK = (
    "fastapi",
    "uvicorn",
    "sqlite3",
    "server_stub.api.app",
    "server_stub.runtime.embedded",
)


def _loaded(modules: str) -> list[str]:
    code = (
        f"import sys, {modules}; print(' '.join(m for m in {SERVER_STACK!r} if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return result.stdout.split()


def test_a_fleet_phone_process_does_not_load_the_server() -> None:
    # A phone process is spawned: it imports the parent's main module (the `phone-sim` script,
    # that is phone_sim.cli) and then the module of its entry point. FastAPI and the rest cost
    # each process 14 MiB it never uses (docs/decisions/lazy-subcommand-imports.md).
    assert _loaded("phone_sim.cli, phone_sim.fleet.processes") == []


def test_the_server_stack_check_can_fail() -> None:
    assert "fastapi" in _loaded("phone_sim.fleet.server")


def test_the_scenario_package_still_offers_its_names() -> None:
    import phone_sim.scenario as package

    for name in package.__all__:
        assert getattr(package, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        package.nothing  # noqa: B018 -- the lookup is the test
