"""What the TUI loads before its first frame (docs/decisions/tui-first-frame-imports.md).

`phone-sim` imports its parser (``phone_sim.cli``), opens its world (``phone_sim.world.launch``)
and imports the app (``phone_sim.ui.app``) before it draws. None of that may pull in what only a
subcommand, the vendor's engine or a screen not yet shown needs; and the protocol's pydantic
models build their validators on first use, not at import. Each check runs in a fresh
interpreter, as a launch does.
"""

from __future__ import annotations

import json
import subprocess
import sys

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
)

#: pydantic models a first frame imports but does not validate with
DEFERRED = (
    "phone_sim.protocol.messages.Verdict",
    "phone_sim.protocol.messages.ActivationRequest",
    "phone_sim.protocol.lock_screen.LockWarning",
    "server_stub.admin.models.DeviceView",
)


def _run(code: str) -> object:
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
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
