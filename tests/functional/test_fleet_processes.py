"""``phone-sim fleet``'s processes: a server in several processes sharing one store, phones in
as many processes as pay off, one progress line, a dead or tampered-with phone process
reported, and ctrl+c stopping every process quietly. The fleet's story: ``test_fleet.py``.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from phone_sim.cli import main
from phone_sim.fleet import cli as fleet_cli
from phone_sim.fleet.errors import FleetError
from phone_sim.fleet.identities import FleetFactory, Provisioned
from phone_sim.fleet.mix import load_mix
from phone_sim.fleet.processes import PhoneProcesses
from phone_sim.fleet.report import Phase, Progress
from phone_sim.fleet.runner import FleetPlan, run_fleet
from phone_sim.fleet.server import can_share_port
from phone_sim.protocol.contact import ContactKind
from server_stub.store.db import Store
from tests.support.fleet import (  # noqa: F401  (the fixture mix_file)
    fleet_identities,
    fleet_server,
    fleet_serving,
    mix_file_fixture,
)


@pytest.mark.slow
@pytest.mark.skipif(not can_share_port(), reason="several server processes need SO_REUSEPORT")
def test_a_two_process_server_shares_the_fleet_and_keeps_one_consistent_store(
    tmp_path: Path, mix_file: Path
) -> None:
    mix = load_mix(mix_file)
    made = fleet_identities(tmp_path, mix, 60, seed=3)
    data = tmp_path / "run" / "vendor"
    server = fleet_server(tmp_path, workers=2)
    try:
        report = run_fleet(
            FleetPlan(devices=60, concurrency=16, checkins=3, seed=3), made, mix, server
        )
    finally:
        usage = server.close()
    assert "2 child processes" in server.description
    assert not report.errors
    assert report.phases[3].verdicts == {"ACTIVATION_OK": 54, "EMBARGOED_TERRITORY": 6}
    # Both processes answered (16 connections spread by the kernel), and every request is counted.
    assert usage is not None and len(usage.requests) == 2
    assert min(usage.requests) > 0 and sum(usage.requests) == 4 * 60
    # One store for both: every device's verdicts numbered 1..4 with no gap or repeat (a
    # sequence is read and written in one transaction, whichever process holds it).
    with Store(data / "vendor.db") as store:
        for kit in made.kits:
            assert [v.sequence for v in store.verdicts(kit.identity.serial)] == [1, 2, 3, 4]
        contacts = [e for e in store.audit(limit=1000) if e.kind in ("activation", "checkin")]
        assert len(contacts) == 4 * 60


@pytest.mark.parametrize(
    ("asked", "devices", "cores", "expected"),
    [(None, 10_000, 2, 2), (None, 999, 2, 1), (None, 10_000, 1, 1), (3, 10, 1, 3)],
)
def test_server_and_phones_run_a_second_process_only_where_it_pays_off(
    monkeypatch: pytest.MonkeyPatch, asked: int | None, devices: int, cores: int, expected: int
) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: cores)
    monkeypatch.setattr("server_stub.runtime.processes.can_share_port", lambda: True)
    assert fleet_cli.server_workers(asked, devices) == expected
    assert fleet_cli.phone_processes(asked, devices) == expected
    monkeypatch.setattr("server_stub.runtime.processes.can_share_port", lambda: False)
    assert fleet_cli.server_workers(None, 10_000) == 1  # the phones need no shared port
    assert fleet_cli.phone_processes(None, 10_000) == (2 if cores > 1 else 1)


@pytest.mark.parametrize(
    ("url", "devices", "cores", "expected"),
    [
        ("http://10.0.0.5:8421", 10_000, 8, 8),  # elsewhere: the phones take every core
        ("http://vendor.example:8421", 10_000, 8, 8),
        ("http://vendor.example:8421", 1_500, 8, 3),  # a 500-device share each at least
        ("http://vendor.example:8421", 999, 8, 1),
        ("http://vendor.example:8421", 10_000, 1, 1),
        ("http://127.0.0.1:8421", 10_000, 8, 2),  # here: the server needs cores too
        ("http://[::1]:8421", 10_000, 8, 2),
        ("http://localhost:8421", 10_000, 8, 2),
        (None, 10_000, 8, 2),  # embedded
    ],
)
def test_phones_take_the_cores_a_server_elsewhere_leaves(
    monkeypatch: pytest.MonkeyPatch, url: str | None, devices: int, cores: int, expected: int
) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: cores)
    assert fleet_cli.phone_processes(None, devices, url) == expected
    assert fleet_cli.phone_processes(3, devices, url) == 3  # as asked, always


@pytest.mark.slow
def test_phone_processes_show_one_progress_line_and_a_dead_one_is_reported(
    tmp_path: Path, mix_file: Path
) -> None:
    mix = load_mix(mix_file)
    made = fleet_identities(tmp_path, mix, 20, seed=5)
    shown = io.StringIO()
    sims = mix.assign(20, 5)
    with fleet_serving(tmp_path) as server:
        phones = PhoneProcesses(
            2, made.source, sims, server, 4, 10.0, Progress(shown, enabled=True)
        )
        try:
            phones.run(Phase("activation", 20), ContactKind.ACTIVATION, False)
            # The line the parent drew from the processes' counters, at the end of the round.
            assert "activation   [########################] 20/20" in shown.getvalue()
            assert "errors 0" in shown.getvalue()
            phones._workers[1].kill()
            with pytest.raises(FleetError, match=r"phone process 2 ended \(exit code -9\)"):
                phones.run(Phase("check-in", 20), ContactKind.CHECKIN, True)
        finally:
            phones.close()


@pytest.mark.slow
def test_a_phone_process_refuses_an_identity_cache_changed_after_the_check(
    tmp_path: Path, mix_file: Path
) -> None:
    # Another run regenerated the cache between this run's check and the phone processes'
    # reading it: the same serials with other keys. They build nothing from it; the run stops.
    mix = load_mix(mix_file)
    made = fleet_identities(tmp_path, mix, 10, seed=4, build=False)
    assert made.source.path is not None
    made.source.path.unlink()
    fleet_identities(tmp_path, mix, 10, seed=4)
    with fleet_serving(tmp_path) as server, pytest.raises(FleetError) as failed:
        PhoneProcesses(2, made.source, mix.assign(10, 4), server, 4, 10.0, Progress())
    assert str(failed.value).startswith("phone process 1 failed: ")
    assert "the identity cache changed after this run checked it" in str(failed.value)
    assert "Traceback" not in str(failed.value)  # a known failure says what, in one line


@pytest.mark.slow
def test_without_a_cache_the_phone_processes_get_their_lines_through_the_pipe(
    tmp_path: Path,
    mix_file: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[bool] = []
    devices = FleetFactory.devices

    def spy(self: FleetFactory, n: int, *, build: bool = True) -> Provisioned:
        asked.append(build)
        return devices(self, n, build=build)

    monkeypatch.setattr(FleetFactory, "devices", spy)
    argv = ["--data", str(tmp_path), "fleet", "--devices", "20", "--checkins", "3"]
    argv += ["--mix", str(mix_file), "--processes", "2", "--no-cache", "--quiet"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "20 devices (0 from the cache, 20 made)" in printed
    assert "over 2 processes" in printed and "no errors" in printed
    assert "devices: 18 activated, 2 locked" in printed
    assert not (tmp_path / "fleet-cache").exists()
    assert asked == [False]  # the command made the identities; the phone processes built them


@pytest.mark.slow
def test_ctrl_c_stops_every_process_of_the_fleet_quietly(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "phone_sim.cli", "--data", str(tmp_path), "fleet"]
    command += ["--devices", "200", "--checkins", "100", "--processes", "2", "--quiet"]
    # In a session of its own, so that the signal can go to the whole group, as a terminal's does.
    fleet = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        _wait_for_contacts(tmp_path, deadline=time.monotonic() + 60)
        os.killpg(fleet.pid, signal.SIGINT)
        out, err = fleet.communicate(timeout=60)
    finally:
        if fleet.poll() is None:
            os.killpg(fleet.pid, signal.SIGKILL)
    assert fleet.returncode == 130, err
    assert err == "phone-sim fleet: interrupted\n"  # no tracebacks from any process
    assert out == ""
    assert not list(tmp_path.glob("fleet-run-*"))  # the server's run directory went with it
    # And no process of the fleet is left running (multiprocessing's resource tracker ends a
    # moment after the parent, once its pipe closes).
    deadline = time.monotonic() + 10
    while _running_in_group(fleet.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _running_in_group(fleet.pid) == []


def _running_in_group(group: int) -> list[str]:
    """Processes of ``group`` that are not zombies (Linux /proc; a zombie waits for init)."""
    running = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == group and fields[0] != "Z":  # state, ppid, pgrp
                running.append((stat.parent / "cmdline").read_text().replace("\0", " "))
    return running


def _wait_for_contacts(data: Path, *, deadline: float) -> None:
    """Until the fleet's server has audited a phone's contact: the rounds are running."""
    while time.monotonic() < deadline:
        for db in data.glob("fleet-run-*/vendor/vendor.db"):
            with contextlib.suppress(sqlite3.Error), sqlite3.connect(db, timeout=1) as conn:
                if conn.execute("SELECT count(*) FROM audit").fetchone()[0] > 0:
                    return
        time.sleep(0.05)
    raise AssertionError("the fleet never reached its server")
