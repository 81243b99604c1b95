"""The vendor console over a vendor that knows more than it lists.

Played: a fleet of 10,000 devices against `vendor-server serve`, then the TUI's console on the
same server. The console read the whole device list every second (3.9 MB, 0.48 s of the
server's CPU each time; the TUI at two thirds of a core), and its audit trail began at the
first entry and caught up 200 a second. It now reads a page of the fleet (``GET /admin/fleet``):
the world's own phones, the holds placed last and the devices met last, and says how many the
vendor knows; the audit trail starts at the newest entries, jumps to the newest when a fleet
writes faster than it reads (saying how many it skipped) and keeps at most AUDIT_KEPT rows.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from phone_sim.protocol.identity import Factory
from phone_sim.protocol.imei import make_imei
from phone_sim.ui.app import Pace, make_app
from phone_sim.ui.screens import vendor_console_screen as console
from server_stub.admin.client import AdminClient, AdminHttpError
from tests.support.one_phone import OnePhoneWorld
from tests.support.signed_client import sim as sim_card
from tests.support.vendor import TELEKOM, Phones
from tests.support.waits import wait_until


def _hold(admin: AdminClient, n: int) -> str:
    imei = make_imei("35000000", n)
    admin.lock(imei, reason="investigation")
    return imei


def _first_cells(table: DataTable[object]) -> list[str]:
    return [str(table.get_row_at(row)[0]) for row in range(table.row_count)]


async def _open_console(pilot: Pilot[None]) -> None:
    await pilot.press("v")
    await wait_until(pilot, lambda: pilot.app.screen.query("#fleet"))


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(console, "FLEET_PAGE", 2)
    monkeypatch.setattr(console, "AUDIT_PAGE", 3)
    monkeypatch.setattr(console, "AUDIT_KEPT", 6)
    # Polls when the test asks (``screen.poll()``), not on the clock: what a poll reads depends
    # on what was written before it, and a loaded machine moved that.
    monkeypatch.setattr(console, "POLL_SECONDS", 3600)


async def test_the_console_lists_a_page_of_a_large_fleet_and_says_how_many(
    make_sim: Callable[..., OnePhoneWorld], small_pages: None
) -> None:
    sim = make_sim()
    admin = sim.admin
    assert admin is not None
    held = [_hold(admin, n) for n in range(5)]  # audit entries 1 to 5
    app = make_app(sim.world, pace=Pace.instant())
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_console(pilot)
        fleet = app.screen.query_one("#fleet", DataTable)
        title = app.screen.query_one("#fleet-title", Static)
        await wait_until(pilot, lambda: fleet.row_count == 2)
        assert _first_cells(fleet) == held[-2:]  # the holds placed last
        await wait_until(pilot, lambda: "2 of 5" in str(title.render()))
        assert "this world's phones, the holds and devices met last" in str(title.render())

        # The audit trail starts at the newest entries, not at the first.
        audit = app.screen.query_one("#audit", DataTable)
        await wait_until(pilot, lambda: _first_cells(audit) == ["3", "4", "5"])

        # Seven more while it reads three a poll: a full page, then a jump to the newest,
        # with a row saying how many were not shown; at most six rows kept.
        for n in range(5, 12):
            _hold(admin, n)  # entries 6 to 12
        screen = app.screen
        assert isinstance(screen, console.VendorConsoleScreen)
        screen.poll()  # the three after the last shown: a full page
        await wait_until(pilot, lambda: _first_cells(audit)[-1:] == ["8"])
        screen.poll()  # so the newest three next
        await wait_until(pilot, lambda: _first_cells(audit)[-1:] == ["12"])
        assert _first_cells(audit) == ["7", "8", "…", "10", "11", "12"]
        gap = [str(cell) for cell in audit.get_row_at(2)]
        assert gap[2:4] == ["1 entries", "not shown:"]
        await wait_until(pilot, lambda: "2 of 12" in str(title.render()))


async def test_a_vendor_without_the_fleet_page_is_listed_whole(
    make_sim: Callable[..., OnePhoneWorld],
    small_pages: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sim = make_sim()
    admin = sim.admin
    assert admin is not None
    held = [_hold(admin, n) for n in range(5)]

    def no_fleet_page(self: AdminClient, **_: object) -> None:
        raise AdminHttpError(404, "not_found", "Not Found")

    monkeypatch.setattr(AdminClient, "fleet", no_fleet_page)
    app = make_app(sim.world, pace=Pace.instant())
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_console(pilot)
        fleet = app.screen.query_one("#fleet", DataTable)
        await wait_until(pilot, lambda: fleet.row_count == 5)
        assert sorted(_first_cells(fleet)) == sorted(held)
        assert str(app.screen.query_one("#fleet-title", Static).render()) == "Fleet"
        assert "No admin access" not in str(app.screen.query_one("#console-status").render())


async def test_the_selected_device_stays_listed_and_selected_as_the_vendor_meets_more(
    make_sim: Callable[..., OnePhoneWorld], small_pages: None
) -> None:
    """Reviewed and played: with a fleet running, rows left the page above the one selected,
    the cursor kept its row number, and `l` locked the device that moved up into it."""
    world = make_sim()
    assert world.server is not None
    phones = Phones(Factory.open(world.world.factory_dir), world.server)
    met = [phones() for _ in range(3)]
    for phone in met:
        phone.activate(sim_card(TELEKOM))
    app = make_app(world.world, pace=Pace.instant())
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_console(pilot)
        screen = app.screen
        assert isinstance(screen, console.VendorConsoleScreen)
        fleet = screen.query_one("#fleet", DataTable)
        await wait_until(pilot, lambda: _first_cells(fleet) == [met[1].serial, met[2].serial])
        fleet.move_cursor(row=0)
        await pilot.pause()
        for _ in range(3):  # the vendor meets three more
            phones().activate(sim_card(TELEKOM))
        screen.poll()
        await wait_until(pilot, lambda: fleet.row_count == 3)  # it, and the two met last
        assert screen.selected_serial() == met[1].serial
        assert met[2].serial not in _first_cells(fleet)
