"""The vendor server never loads the phone: no Textual, no device or client code."""

from __future__ import annotations

import subprocess
import sys

FORBIDDEN = ("textual", "phone_sim.device", "phone_sim.client", "phone_sim.ui")


def test_server_modules_do_not_import_the_phone() -> None:
    code = (
        "import sys\n"
        "import server_stub.api.app, server_stub.cli, server_stub.runtime.embedded\n"
        f"print(sorted(m for m in sys.modules if m.startswith({FORBIDDEN!r})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"
