"""``phone-sim fleet``: many headless phones against a real vendor server, counted.

The story at fleet scale: of 50 phones with a 90/10 German/Cuban SIM mix, every one activates,
and three daily check-ins later the five Cuban ones are locked, with no request failing. Also
the command, how it moves a remote server's clock, and the mixes it refuses. How the fleet's
processes (server and phones) are laid out, report and stop: ``test_fleet_processes.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from phone_sim.cli import main
from phone_sim.fleet.mix import load_mix
from phone_sim.fleet.runner import FleetPlan, run_fleet
from phone_sim.protocol.clock import STORY_START, Clock, FixedClock, SimulatedClock
from phone_sim.protocol.identity import Factory
from server_stub.datadir.settings import ServerSettings
from server_stub.runtime.embedded import EmbeddedVendorServer
from tests.support.fleet import (  # noqa: F401  (the fixture mix_file)
    fleet_identities,
    fleet_server,
    fleet_serving,
    mix_file_fixture,
)
from tests.support.nesting import nested


@pytest.mark.slow
@pytest.mark.parametrize("processes", [1, 2])
def test_a_fleet_activates_and_the_embargoed_tenth_is_locked_three_days_later(
    tmp_path: Path, mix_file: Path, processes: int
) -> None:
    # Spread over two processes, the phones keep step with the server's clock in each, and
    # the report is the same as from one. As the command does, this process then builds no
    # device: each phone process builds its own from the identity cache.
    mix = load_mix(mix_file)
    made = fleet_identities(tmp_path, mix, 50, seed=7, build=processes == 1)
    assert len(made.kits) == (50 if processes == 1 else 0)
    server = fleet_server(tmp_path)
    try:
        report = run_fleet(
            FleetPlan(devices=50, concurrency=4, checkins=3, seed=7, processes=processes),
            made,
            mix,
            server,
        )
    finally:
        usage = server.close()
    assert report.processes == processes
    assert not report.errors
    assert [p.requests for p in report.phases] == [50, 50, 50, 50]
    assert report.phases[0].verdicts == {"ACTIVATION_OK": 50}
    assert report.phases[3].verdicts == {"ACTIVATION_OK": 45, "EMBARGOED_TERRITORY": 5}
    assert report.by_sim == {
        "Telekom (262-01)": {"activated": 45},
        "Cubacel (368-01)": {"locked": 5},
    }
    assert usage is not None and usage.peak_rss_kib > 0


def test_the_command_prints_the_summary_and_writes_json(
    tmp_path: Path, mix_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "fleet.json"
    argv = ["--data", str(tmp_path / "data"), "fleet", "--devices", "20", "--checkins", "1"]
    argv += ["--mix", str(mix_file), "--in-process", "--json", str(out), "--quiet"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "20 devices (0 from the cache, 20 made)" in printed
    assert "devices: 20 activated" in printed
    assert "latency p50" in printed and "peak RSS: fleet" in printed
    figures = json.loads(out.read_text())
    assert figures["requests"] == 40 and figures["errors"] == {}
    # The rounds are part of the command, which also started and stopped the server.
    assert 0 < figures["request_seconds"] <= figures["seconds"] < figures["command_seconds"]
    assert f"{figures['command_seconds']:.1f} s for the command after start-up" in printed
    assert figures["by_sim"] == {
        "Telekom (262-01)": {"activated": 18},
        "Cubacel (368-01)": {"activated": 2},
    }
    # The identities are kept: a second run makes none.
    assert main(argv) == 0
    assert "20 devices (20 from the cache, 0 made)" in capsys.readouterr().out


def remote_fleet(
    tmp_path: Path, mix_file: Path, clock: Clock, devices: int, checkins: int, *more: str
) -> None:
    """Run ``phone-sim fleet`` against a vendor of its own (its clock ``clock``), with the
    vendor's key and admin token, as a user points a fleet at their server."""
    Factory.open(tmp_path / "factory")
    settings = ServerSettings(data_dir=tmp_path / "vendor", port=0)
    with EmbeddedVendorServer(settings, clock=clock) as server:
        argv = ["--data", str(tmp_path), "fleet", "--devices", str(devices), "--quiet"]
        argv += ["--checkins", str(checkins), "--mix", str(mix_file), "--server", server.url]
        argv += ["--vendor-key", str(server.vendor_public_key_path)]
        argv += ["--admin-token-file", str(settings.admin_token_path), *more]
        assert main(argv) == 0


@pytest.mark.parametrize("processes", ["1", "2"])
def test_a_remote_simulated_server_has_its_clock_moved_through_the_admin_api(
    tmp_path: Path, mix_file: Path, capsys: pytest.CaptureFixture[str], processes: str
) -> None:
    clock = FixedClock(STORY_START)
    remote_fleet(tmp_path, mix_file, clock, 10, 3, "--processes", processes)
    assert clock.now() == STORY_START + 3 * 86_400
    printed = capsys.readouterr().out
    assert "devices: 9 activated, 1 locked" in printed
    assert "on its simulated clock" in printed


def test_every_round_checks_every_device_in_against_a_clock_running_at_real_speed(
    tmp_path: Path, mix_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Played: `make serve-vendor` (a simulated clock at speed 1), then a fleet with its admin
    # token and three check-ins: "check-in 2 (+48 h): 0 requests ... no errors". The admin API
    # reads whole seconds, so after a move the clock stood up to a second short of one interval
    # after the last check-ins, and none was due yet.
    clock = SimulatedClock(STORY_START, speed=1)
    remote_fleet(tmp_path, mix_file, clock, 30, 4, "--in-process", "--seed", "7")
    printed = capsys.readouterr().out
    rounds = [line for line in printed.splitlines() if line.startswith("check-in")]
    assert len(rounds) == 4
    assert all(": 30 requests in" in line for line in rounds), "\n".join(rounds)
    assert "all requests: 150 requests" in printed


@pytest.mark.slow
def test_phone_processes_keep_step_with_a_running_simulated_clock(
    tmp_path: Path, mix_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # At 1,000 times real time the server's clock runs more than five minutes while a phone
    # process starts (half a second here); a phone that started its own copy of the clock late
    # would sign outside the 5-minute window. (Not faster: 300 s of skew would then be less
    # than 300 ms of real time, and a cold first request takes up to 100 ms here.)
    clock = SimulatedClock(STORY_START, speed=1000)
    remote_fleet(tmp_path, mix_file, clock, 10, 1, "--processes", "2")
    printed = capsys.readouterr().out
    assert "concurrency 8 over 2 processes" in printed
    assert "all requests: 20 requests" in printed and "no errors" in printed


def test_the_phones_never_run_in_more_processes_than_requests_in_flight(
    tmp_path: Path, mix_file: Path
) -> None:
    mix = load_mix(mix_file)
    made = fleet_identities(tmp_path, mix, 6, seed=2)
    with fleet_serving(tmp_path) as server:
        plan = FleetPlan(devices=6, concurrency=1, checkins=0, processes=4)
        report = run_fleet(plan, made, mix, server)
    assert report.processes == 1 and not report.errors
    assert "concurrency 1, 0 check-in round(s)" in report.lines()[0]


@pytest.mark.parametrize("processes", ["1", "2"])
def test_a_remote_server_without_the_token_gets_retries_on_real_time(
    tmp_path: Path, mix_file: Path, capsys: pytest.CaptureFixture[str], processes: str
) -> None:
    Factory.open(tmp_path / "factory")
    settings = ServerSettings(data_dir=tmp_path / "vendor", port=0)
    with EmbeddedVendorServer(settings) as server:  # real time
        argv = ["--data", str(tmp_path), "fleet", "--devices", "5", "--checkins", "2"]
        argv += ["--mix", str(mix_file), "--server", server.url, "--quiet"]
        argv += ["--vendor-key", str(server.vendor_public_key_path), "--processes", processes]
        assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "check-in 2 (retry): 5 requests" in printed
    assert "check-ins were user retries" in printed


def test_a_bad_mix_is_refused_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "mix.toml"
    bad.write_text("[sims]\nAtlantis = 1\n", encoding="utf-8")
    assert main(["--data", str(tmp_path), "fleet", "--mix", str(bad)]) == 2
    assert "sims.Atlantis: not a carrier" in capsys.readouterr().err


def test_a_deeply_nested_mix_is_refused_in_one_line_by_the_command(tmp_path: Path) -> None:
    # A real process: before, tomllib's RecursionError came out as a traceback.
    deep = tmp_path / "mix.toml"
    deep.write_text(nested("sims", "arrays"), encoding="utf-8")
    command = [sys.executable, "-m", "phone_sim.cli", "--data", str(tmp_path), "fleet"]
    done = subprocess.run(
        [*command, "--mix", str(deep)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 2
    assert done.stderr == (
        f"phone-sim fleet: {deep}:1: sims: nested more than 32 levels deep "
        "(tables, arrays or dotted keys)\n"
    )
