"""What the TUI loads before its first frame (docs/decisions/tui-first-frame-imports.md).

`phone-sim` imports its parser (``phone_sim.cli``), opens its world (``phone_sim.world.launch``)
and imports the app (``phone_sim.ui.app``) before it draws. None of that may pull in what only a
subcommand, the vendor's engine or a screen not yet shown needs; and the protocol's pydantic
models build their validators on first use, not at import. Each check runs in a fresh
interpreter, as a launch does.

Opening the world and drawing the first frame may not load them either: the device model reads
the protocol's wire models (pydantic) only once a request or verdict exists, the world reads its
factory (``cryptography.x509``) only to make a phone, the vendor makes its admin client only
when the console first calls, and the phone's client loads the signature check at its first
exchange. The last test runs the app to its first frame on an existing data directory, as
``phone-sim`` does, and looks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

#: what `phone-sim` imports before its first frame
BEFORE_THE_FIRST_FRAME = "phone_sim.cli, phone_sim.world.launch, phone_sim.ui.app"

#: modules the first frame does without (each loaded by something that runs later, or never)
NOT_BEFORE_THE_FIRST_FRAME = (
    "phone_sim.scenario.model",  # `scenario run` (pydantic models of scenario files)
    "phone_sim.scenario.library",
    "phone_sim.fleet.mix",  # `fleet` (the SIM mix's models)
    "phone_sim.tomlfile",
    "server_stub.engine.decide",  # the vendor's engine and policy, loaded by the server
    "server_stub.policy",
    "fastapi",
    "requests",  # a phone's first exchange (phone_sim/client/transport.py), the console's first call
    "urllib3",
    "phone_sim.ui.screens.vendor_console_screen",  # screens pushed later (ui/screens/later.py)
    "phone_sim.ui.screens.unblock_code_screen",
    "phone_sim.ui.screens.sim_tray_screen",
    "phone_sim.ui.screens.inspector_screen",
    "phone_sim.ui.screens.confirm_screen",
    "phone_sim.ui.screens.account_screen",
    "phone_sim.ui.widgets.keys_panel",  # the keys panel, imported at the first f1
    # the wire models (pydantic) load with a phone's first request or verdict, and a stored
    # lock warning with the state that holds one (phone_sim/device/*, protocol/versions.py)
    "pydantic",
    "phone_sim.protocol.messages",
    "phone_sim.protocol.lock_screen",
    "phone_sim.protocol.account_request",
    "phone_sim.protocol.timesync",
    # the factory's certificates, read when a phone is made (World.factory)
    "cryptography.x509",
    "phone_sim.protocol.identity",
    # the admin client and its answer models, made at the console's first call (Vendor.admin)
    "server_stub.admin.client",
    "server_stub.admin.models",
    "phone_sim.world.clocks",
    # the signature check, at a phone's first exchange (VendorClient._judge)
    "phone_sim.protocol.signing",
    "http_message_signatures",
)

#: pydantic models a first frame imports but does not validate with
DEFERRED = (
    "phone_sim.protocol.messages.Verdict",
    "phone_sim.protocol.messages.ActivationRequest",
    "phone_sim.protocol.lock_screen.LockWarning",
    "server_stub.admin.models.DeviceView",
)


def _run(code: str, *args: str, env: dict[str, str] | None = None) -> object:
    result = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=False, env=env
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def loaded_by(modules: str, candidates: tuple[str, ...]) -> list[str]:
    code = f"import json, sys, {modules}; print(json.dumps([m for m in {candidates!r} if m in sys.modules]))"
    found = _run(code)
    assert isinstance(found, list)
    return [str(name) for name in found]


def built_at_import(models: tuple[str, ...]) -> list[str]:
    """Those of ``models`` (``module.Class``) whose validator exists once their module is imported."""
    imports = ", ".join(sorted({name.rpartition(".")[0] for name in models}))
    code = (
        f"import json, sys, {imports}\n"
        f"names = {models!r}\n"
        "def cls(name):\n"
        "    module, _, attr = name.rpartition('.')\n"
        "    return getattr(sys.modules[module], attr)\n"
        "print(json.dumps([n for n in names if cls(n).__pydantic_complete__]))"
    )
    found = _run(code)
    assert isinstance(found, list)
    return [str(name) for name in found]


def test_the_first_frame_loads_only_what_it_shows() -> None:
    assert loaded_by(BEFORE_THE_FIRST_FRAME, NOT_BEFORE_THE_FIRST_FRAME) == []


def test_the_import_check_can_fail() -> None:
    # What `scenario run` and the console load, the check sees.
    modules = (
        "phone_sim.scenario.parser, phone_sim.ui.screens.vendor_console_screen, "
        "phone_sim.client.transport"
    )
    found = set(loaded_by(modules, NOT_BEFORE_THE_FIRST_FRAME))
    assert found >= {
        "phone_sim.scenario.model",
        "phone_sim.tomlfile",
        "server_stub.policy",
        "phone_sim.ui.screens.vendor_console_screen",
        "phone_sim.ui.screens.unblock_code_screen",
        "requests",
    }


def test_protocol_models_build_their_validators_on_first_use() -> None:
    assert built_at_import(DEFERRED) == []


def test_the_deferral_check_can_fail() -> None:
    # The admin API's request bodies are built at import (FastAPI reads bodies through them).
    request = "server_stub.admin.models.LockRequest"
    assert built_at_import((request,)) == [request]


def test_a_deferred_model_validates_as_strictly_once_built() -> None:
    from pydantic import ValidationError

    from phone_sim.protocol.lock_screen import LockWarning

    fields = {"lock_at": 200, "notice_at": 100, "reminder_at": 150, "notice": "n", "reminder": "r"}
    assert LockWarning.model_validate(fields).lock_at == 200
    for wrong in ({"lock_at": "200"}, {"extra": 1}, {"notice_at": 300}):
        with pytest.raises(ValidationError):
            LockWarning.model_validate({**fields, **wrong})


#: `phone-sim --data DATA` (``phone_sim.cli.main``, Textual's headless driver) up to its first
#: frame, in a fresh interpreter: what is loaded then, whether the heap is frozen, and what is
#: loaded once the console, a new phone and a request have asked for what the frame did without
FIRST_FRAME = """
import gc, json, sys
from phone_sim.ui.screens.boot_screen import BootScreen
from phone_sim.world.vendor import EmbeddedVendor

candidates = json.loads(sys.argv[2])
seen = {}
# The embedded server starts after the first frame (a worker the app starts once it has drawn,
# docs/decisions/tui-first-frame-before-the-server.md) and loads its own stack: not looked at.
EmbeddedVendor.serve = lambda self: None
show = BootScreen._show_bootloader

def shown(screen):
    show(screen)  # the first frame's "Bootloader" line
    seen["first_frame"] = [m for m in candidates if m in sys.modules]
    seen["frozen"] = gc.get_freeze_count()
    world = screen.app.world
    assert world.admin is not None  # the vendor console's first call
    world.factory  # the factory, as for a new phone
    world.phone().phone.build_request("n" * 22)  # a phone's first request
    seen["after"] = [m for m in candidates if m in sys.modules]
    screen.app.exit()

BootScreen._show_bootloader = shown
from phone_sim.cli import main

assert main(["--data", sys.argv[1]], own_process=True) == 0  # as `phone-sim` runs it
print(json.dumps(seen))
"""


@pytest.fixture(scope="module")
def first_frame_loads(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What the first frame on an existing data directory had loaded, and what came after."""
    from phone_sim.world.launch import WorldOptions, launch

    data = tmp_path_factory.mktemp("first-frame") / "data"
    launch(WorldOptions(data=data)).close()  # the directory exists: its factory, vendor, phone
    headless = {**os.environ, "TEXTUAL_DRIVER": "textual.drivers.headless_driver:HeadlessDriver"}
    found = _run(FIRST_FRAME, str(data), json.dumps(NOT_BEFORE_THE_FIRST_FRAME), env=headless)
    assert isinstance(found, dict)
    return found


def test_the_first_frame_on_an_existing_data_directory_loads_only_what_it_shows(
    first_frame_loads: dict[str, Any],
) -> None:
    assert first_frame_loads["first_frame"] == []


def test_phone_sim_freezes_what_it_loaded_before_its_first_frame(
    first_frame_loads: dict[str, Any],
) -> None:
    # the process's own heap, out of the collector's sight (phone_sim/cli.py)
    assert first_frame_loads["frozen"] > 10_000


def test_the_first_frame_check_sees_what_comes_later(
    first_frame_loads: dict[str, Any],
) -> None:
    # The console's admin client, the factory of a new phone and a first request load what the
    # first frame did without, in the same interpreter: the check above can fail.
    assert set(first_frame_loads["after"]) >= {
        "pydantic",
        "phone_sim.protocol.messages",
        "cryptography.x509",
        "server_stub.admin.client",
        "server_stub.admin.models",
    }
