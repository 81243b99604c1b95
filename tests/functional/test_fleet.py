"""``phone-sim fleet``: many headless phones against a real vendor server, counted.

The story at fleet scale: of 50 phones with a 90/10 German/Cuban SIM mix, every one activates,
and three daily check-ins later the five Cuban ones are locked, with no request failing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from phone_sim.cli import main
from phone_sim.fleet.identities import FleetFactory
from phone_sim.fleet.mix import load_mix
from phone_sim.fleet.runner import FleetPlan, run_fleet
from phone_sim.fleet.server import ChildServer
from phone_sim.protocol.clock import FixedClock
from phone_sim.protocol.identity import Factory
from phone_sim.simulation import STORY_START
from server_stub.embedded import EmbeddedVendorServer
from server_stub.settings import ServerSettings

MIX = """
description = "The story: 90% German SIMs, 10% Cuban"
[sims]
Telekom = 90
Cubacel = 10
"""


@pytest.fixture
def mix_file(tmp_path: Path) -> Path:
    path = tmp_path / "mix.toml"
    path.write_text(MIX, encoding="utf-8")
    return path


def test_a_fleet_activates_and_the_embargoed_tenth_is_locked_three_days_later(
    tmp_path: Path, mix_file: Path
) -> None:
    mix = load_mix(mix_file)
    made = FleetFactory(
        tmp_path / "factory", tmp_path, model=mix.model, market=mix.market, seed=7
    ).devices(50)
    server = ChildServer(
        tmp_path / "run" / "vendor", tmp_path / "factory" / "root.pem", start=STORY_START
    )
    try:
        report = run_fleet(
            FleetPlan(devices=50, concurrency=4, checkins=3, seed=7), made.kits, mix, server
        )
    finally:
        usage = server.close()
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
    assert figures["by_sim"] == {
        "Telekom (262-01)": {"activated": 18},
        "Cubacel (368-01)": {"activated": 2},
    }
    # The identities are kept: a second run makes none.
    assert main(argv) == 0
    assert "20 devices (20 from the cache, 0 made)" in capsys.readouterr().out


def test_a_remote_simulated_server_has_its_clock_moved_through_the_admin_api(
    tmp_path: Path, mix_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Factory.open(tmp_path / "factory")
    settings = ServerSettings(data_dir=tmp_path / "vendor", port=0)
    with EmbeddedVendorServer(settings, clock=FixedClock(STORY_START)) as server:
        argv = ["--data", str(tmp_path), "fleet", "--devices", "10", "--checkins", "3"]
        argv += ["--mix", str(mix_file), "--server", server.url, "--quiet"]
        argv += ["--vendor-key", str(server.vendor_public_key_path)]
        argv += ["--admin-token-file", str(settings.admin_token_path)]
        assert main(argv) == 0
        assert server.clock.now() == STORY_START + 3 * 86_400
    printed = capsys.readouterr().out
    assert "devices: 9 activated, 1 locked" in printed
    assert "on its simulated clock" in printed


def test_a_remote_server_without_the_token_gets_retries_on_real_time(
    tmp_path: Path, mix_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Factory.open(tmp_path / "factory")
    settings = ServerSettings(data_dir=tmp_path / "vendor", port=0)
    with EmbeddedVendorServer(settings) as server:  # real time
        argv = ["--data", str(tmp_path), "fleet", "--devices", "5", "--checkins", "2"]
        argv += ["--mix", str(mix_file), "--server", server.url, "--quiet"]
        argv += ["--vendor-key", str(server.vendor_public_key_path)]
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
