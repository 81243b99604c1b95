"""``phone-sim fleet`` starts its server while it checks the identity cache, and stops a server
it started when the check fails (docs/decisions/fleet-server-starts-during-the-cache-check.md).

The server and the cache check are stood in for; what is checked is the order of the command's
own steps: without the overlap the check would wait for a start that has not begun.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

import phone_sim.fleet.cli as fleet_cli
from phone_sim.cli import main
from phone_sim.fleet.errors import FleetError
from phone_sim.fleet.identities import FleetFactory


def test_the_server_starts_while_the_cache_is_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    starting = threading.Event()
    seen: list[bool] = []

    def server(*args: Any) -> Any:
        starting.set()
        raise FleetError("the stand-in server does not start")

    def devices(self: FleetFactory, n: int, *, build: bool = True) -> Any:
        seen.append(starting.wait(5))  # the start is under way while the check runs
        raise FleetError("the stand-in check stops here")

    monkeypatch.setattr(fleet_cli, "_server", server)
    monkeypatch.setattr(FleetFactory, "devices", devices)
    assert main(["--data", str(tmp_path), "fleet", "--devices", "10", "--quiet"]) == 2
    assert seen == [True]
    assert "the stand-in check stops here" in capsys.readouterr().err


def test_a_failed_check_stops_the_server_it_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    closed: list[bool] = []

    class Server:
        def close(self) -> None:
            closed.append(True)

    def devices(self: FleetFactory, n: int, *, build: bool = True) -> Any:
        raise OSError("the identity cache cannot be read")

    monkeypatch.setattr(fleet_cli, "_server", lambda *args: Server())
    monkeypatch.setattr(FleetFactory, "devices", devices)
    assert main(["--data", str(tmp_path), "fleet", "--devices", "10", "--quiet"]) == 2
    assert closed == [True]
    assert "the identity cache cannot be read" in capsys.readouterr().err
    # Its run directory is gone with it.
    assert not list(tmp_path.glob("fleet-run-*"))
