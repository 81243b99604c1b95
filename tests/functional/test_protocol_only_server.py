"""Our tools against a server that speaks only the protocol (the minimal server, no admin API).

They run what the protocol allows and report the rest SKIPPED, with the reason, never FAILED
and never before their first step (issue #19): a scenario's expectation on the vendor's
records, an operator's step, ``advance`` on a vendor whose time nobody here may move, a
scenario's own policy; ``phone-sim fleet --server`` signs with the server's signed time; the
console says plainly that it has no admin access, with its controls off.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Button, Input, Static

from phone_sim.cli import main
from phone_sim.ui.app import Pace, make_app
from phone_sim.world.vendor import RemoteVendor
from phone_sim.world.world import open_world
from tests.support.conformance import Target, minimal_server

SCENARIOS = [
    "cubacel-locked-after-3-days",  # advance and expectations on the vendor's records
    "investigation-hold-and-bulk-release",  # the operator's steps
    "cn-phone-german-sim-region-lock",  # a policy of its own
    "server-down-during-setup",  # the embedded server's steps
    "activated-in-germany",
    "activated-in-germany",  # again, on the same server: fresh nonces, a device of its own
]


@pytest.fixture(scope="module")
def minimal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    with minimal_server(tmp_path_factory.mktemp("minimal")) as (_, target):
        yield target


def _remote(target: Target) -> list[str]:
    return [
        "--server",
        target.url,
        "--vendor-key",
        str(target.vendor_key),
        "--factory",
        str(target.factory),
    ]


def test_the_scenarios_run_what_the_protocol_allows_and_skip_the_rest(
    minimal: Target, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junit = tmp_path / "junit.xml"
    argv = ["scenario", "run", *_remote(minimal), *SCENARIOS, "--junit", str(junit)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert f"{len(SCENARIOS)} scenarios: {len(SCENARIOS)} passed, 0 failed" in out
    assert "FAILED" not in out
    cubacel = out.split("cubacel-locked-after-3-days:")[1].split("\n\n")[0]
    assert "  3. activate ... ok: activated (ACTIVATION_OK); screen home" in cubacel
    assert "expect screen=home ... ok" in cubacel
    assert "expect server_state=flagged ... SKIPPED: needs the vendor's admin API" in cubacel
    assert "  4. advance days=2 hours=23 ... SKIPPED: time cannot move: " in cubacel
    assert (
        "  5. advance hours=1 ... SKIPPED: follows step 4 (advance), which was skipped" in cubacel
    )
    assert (
        "  PASSED: 3 steps, 2 expectations; SKIPPED: 3 steps, 7 expectations (from step 4"
        in cubacel
    )
    hold = out.split("investigation-hold-and-bulk-release:")[1].split("\n\n")[0]
    assert (
        '  4. operator_lock reason="smuggling investigation" by=imei ... SKIPPED: '
        "needs the vendor's admin API" in hold
    )
    region = out.split("cn-phone-german-sim-region-lock:")[1].split("\n\n")[0]
    assert (
        "     SKIPPED: the scenario's policy is not installed: needs the vendor's admin API"
        in region
    )
    assert "  1. boot ... SKIPPED: the scenario's policy is not installed (above)" in region
    down = out.split("server-down-during-setup:")[1].split("\n\n")[0]
    assert "server_down ... SKIPPED: server_down needs the embedded server (not --server)" in down
    germany = out.split("activated-in-germany:")
    assert len(germany) == 3
    for run in germany[1:]:  # the second run is not the first one's replay
        assert "  3. activate ... ok: activated (ACTIVATION_OK); screen home" in run
    suites = ET.parse(junit).getroot().findall("testsuite")
    assert sum(int(s.get("failures", "0")) + int(s.get("errors", "0")) for s in suites) == 0
    skipped = [c for s in suites for c in s.findall("testcase") if c.find("skipped") is not None]
    assert any("time cannot move" in (c.find("skipped").get("message") or "") for c in skipped)  # type: ignore[union-attr]


def test_the_same_in_the_app(minimal: Target, capfd: pytest.CaptureFixture[str]) -> None:
    # capfd: the app prints the steps it plays past sys.stdout while it runs
    assert main(["scenario", "run", "--ui", *_remote(minimal), "cubacel-locked-after-3-days"]) == 0
    out = capfd.readouterr().out
    assert "  4. advance days=2 hours=23 ... SKIPPED: time cannot move: " in out
    assert "expect server_state=flagged ... SKIPPED" in out


def test_a_fleet_signs_with_the_servers_signed_time(
    minimal: Target, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--data", str(tmp_path / "data"), "fleet", *_remote(minimal), "--devices", "12"]
    assert main([*argv, "--checkins", "1", "--processes", "1"]) == 0
    out = capsys.readouterr().out
    assert "on its signed time (simulated, not ours to move)" in out
    assert "all requests: 24 requests" in out and "no errors" in out
    assert "note: the server's time cannot be moved; check-ins were user retries" in out


@pytest.mark.parametrize("token", [None, "a-token-for-an-admin-api-that-is-not-there"])
async def test_the_console_says_it_has_no_admin_access(
    minimal: Target, tmp_path: Path, token: str | None
) -> None:
    vendor = RemoteVendor(minimal.url, minimal.vendor_key, token)
    assert vendor.admin is None
    world = open_world(tmp_path / "world", vendor=vendor, factory_dir=minimal.factory)
    world.add_phone()
    app = make_app(world, pace=Pace.instant(), power_on=False)
    with world:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("v")
            await pilot.pause()
            status = str(app.screen.query_one("#console-status", Static).render())
            assert "No admin access to this vendor" in status
            why = "has no admin API" if token else "no admin token"
            assert why in status
            for control in app.screen.query("#actions Button, #actions Input"):
                assert isinstance(control, Button | Input) and control.disabled
            await pilot.press("l")  # Lock: nothing to do it with, and it says so again
            await pilot.pause()
            assert "No admin access" in str(
                app.screen.query_one("#console-status", Static).render()
            )
