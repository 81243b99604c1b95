"""The app with several phones: a key switches the phone in view, the status bar names it, the
console lists them all; time, the tray and the console are the world's controls on every screen,
and a phone's lock screen still has no way out of itself."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable
from textual.widgets.data_table import RowKey

from phone_sim.device.sims import Sim, carrier
from phone_sim.device.state import DeviceState
from phone_sim.ui.app import Pace, PhoneApp, make_app
from phone_sim.ui.screens.home_screen import HomeScreen
from phone_sim.ui.screens.lock_screen import LockScreen
from phone_sim.ui.screens.sim_tray_screen import SimTrayScreen
from phone_sim.ui.screens.vendor_console_screen import VendorConsoleScreen
from phone_sim.ui.widgets.status_bar import StatusBar
from phone_sim.world.launch import WorldOptions, launch
from tests.functional.conftest import on_screen, wait_until
from tests.support.ui_states import activate_in_view

SIZE = (120, 40)
DAY = 86_400


def status(app: object) -> str:
    """The status bar of the screen in view ('' while that screen is still composing)."""
    bars = app.screen.query(StatusBar)  # type: ignore[attr-defined]
    return str(bars.first().render()) if bars else ""


async def open_console(pilot: Pilot[object], app: PhoneApp, rows: int) -> DataTable[object]:
    """Press ``v`` and wait for the console's fleet to list ``rows`` devices; the fleet."""
    await pilot.press("v")
    await wait_until(pilot, lambda: isinstance(app.screen, VendorConsoleScreen))
    fleet: DataTable[object] = app.screen.query_one("#fleet", DataTable)
    await wait_until(pilot, lambda: fleet.row_count == rows)
    return fleet


def console_status(app: object) -> str:
    return str(app.screen.query_one("#console-status").render())  # type: ignore[attr-defined]


@pytest.mark.slow  # over 2 s of CPU or 10 s of wall (tests/support/cpu_budget.py)
async def test_three_phones_one_in_view_and_the_worlds_controls_everywhere(
    tmp_path: Path,
) -> None:
    world = launch(WorldOptions(data=tmp_path / "world", phones=3, speed=0, seed=5))
    assert list(world.phones) == ["phone", "phone-2", "phone-3"]
    assert len({p.data_dir for p in world}) == 3  # each keeps its own data directory
    app = make_app(world, pace=Pace.instant())
    with world:
        async with app.run_test(size=SIZE) as pilot:
            phones = [p.phone for p in world]
            await wait_until(pilot, lambda: all(p.state is DeviceState.SETUP for p in phones))
            # The first phone activates with a Cuban SIM, the others with German ones.
            for phone, name in zip(phones, ("Cubacel", "Telekom", "Telekom"), strict=True):
                phone.insert_sim(1, Sim.of(carrier(name)))
            for name, phone in zip(world.phones, phones, strict=True):
                app.current_name = name
                app.request_activation()
                await wait_until(pilot, lambda p=phone: p.state is DeviceState.ACTIVATED)
            app.current_name = "phone"
            app.sync_screen(switched=True)
            await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
            await wait_until(pilot, lambda: status(app).startswith("phone (Redmi Note 9)"))

            await pilot.press("a")  # +3 days: the world's time, every phone checks in
            await wait_until(pilot, lambda: app.fast_forward_to is None)
            await wait_until(pilot, lambda: isinstance(app.screen, LockScreen))
            assert [p.state for p in phones] == [
                DeviceState.LOCKED,
                DeviceState.ACTIVATED,
                DeviceState.ACTIVATED,
            ]
            # Every phone made its daily check-ins on the way; the ones due at the very end may
            # still be on the wire when the lock screen shows (seen at load 20).
            await wait_until(
                pilot,
                lambda: all(
                    p.next_checkin_at is not None and p.next_checkin_at > world.clock.now()
                    for p in phones
                ),
            )

            # The lock screen keeps its phone: escape does not leave it.
            await pilot.press("escape")
            assert isinstance(app.screen, LockScreen)
            # Switching phones is the world's: from the lock screen to the next phone's face.
            await pilot.press("n")
            await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
            await wait_until(pilot, lambda: status(app).startswith("phone-2 (Redmi Note 9)"))
            await pilot.press("n", "n")
            await wait_until(pilot, lambda: isinstance(app.screen, LockScreen))
            await wait_until(pilot, lambda: status(app).startswith("phone (Redmi Note 9)"))

            # The tray opens over the lock screen, and closing it returns to the lock screen.
            await pilot.press("t")
            await on_screen(pilot, SimTrayScreen)
            await pilot.press("escape")
            await wait_until(pilot, lambda: isinstance(app.screen, LockScreen))

            # The console lists every phone of the world, by name.
            fleet = await open_console(pilot, app, rows=3)
            for phone in world:  # each row labelled with its phone's name
                row = fleet.rows[RowKey(phone.phone.identity.serial)]
                assert row.label is not None and row.label.plain == phone.name
            # Its actions start on the phone in view.
            assert app.screen.selected_serial() == phones[0].identity.serial
            await pilot.press("escape")
            await wait_until(pilot, lambda: isinstance(app.screen, LockScreen))
            # From another phone, they start on that one: a lock hits the phone in view.
            await pilot.press("n")
            await wait_until(pilot, lambda: status(app).startswith("phone-2 (Redmi Note 9)"))
            fleet = await open_console(pilot, app, rows=3)
            assert app.screen.selected_serial() == phones[1].identity.serial
            await pilot.press("l")
            await wait_until(pilot, lambda: phones[1].identity.serial in console_status(app))
            await pilot.press("escape")


async def test_a_phone_joins_from_the_palette_and_comes_into_view(tmp_path: Path) -> None:
    world = launch(WorldOptions(data=tmp_path / "world", speed=0, seed=6))
    app = make_app(world, pace=Pace.instant())
    with world:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("n")  # one phone: nothing to switch to, and it says so
            assert app.current_name == "phone"
            app.action_add_phone()
            await wait_until(pilot, lambda: app.current_name == "phone-2")
            await wait_until(pilot, lambda: world.phone("phone-2").phone.state.value == "setup")
            await wait_until(pilot, lambda: status(app).startswith("phone-2 (Redmi Note 9)"))
            assert (tmp_path / "world" / "phones" / "phone-2" / "identity.json").exists()


async def test_phone_sim_serves_its_vendor_once_the_first_frame_is_up(tmp_path: Path) -> None:
    # docs/decisions/tui-first-frame-before-the-server.md: the world takes its port at launch,
    # the app starts the server after its first frame, and the story goes on as before.
    world = launch(WorldOptions(data=tmp_path / "world", speed=0, serve_later=True))
    assert not world.vendor.running
    app = make_app(world, pace=Pace.instant())
    with world:
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: world.vendor.running)
            phone = world.phone().phone
            await activate_in_view(pilot, app, phone, "Telekom")


async def test_a_phone_the_vendor_learns_of_later_never_moves_the_operators_row(
    tmp_path: Path,
) -> None:
    # The console starts on the phone in view; phone-2 is still in setup, unknown to the
    # vendor, so it starts on the one row there is. When phone-2 activates meanwhile, the
    # operator's row stays theirs: a cursor moved under them would make `l` lock another phone.
    world = launch(WorldOptions(data=tmp_path / "world", phones=2, speed=0, seed=5))
    app = make_app(world, pace=Pace.instant())
    with world:
        async with app.run_test(size=SIZE) as pilot:
            first, second = (p.phone for p in world)
            await activate_in_view(pilot, app, first, "Telekom")
            await pilot.press("n")
            await wait_until(pilot, lambda: status(app).startswith("phone-2 (Redmi Note 9)"))
            fleet = await open_console(pilot, app, rows=1)
            assert app.screen.selected_serial() == first.identity.serial
            second.insert_sim(1, Sim.of(carrier("Telekom")))
            app.request_activation()  # phone-2, in view, activates while the console is open
            await wait_until(pilot, lambda: second.state is DeviceState.ACTIVATED)
            await wait_until(pilot, lambda: fleet.row_count == 2)
            await pilot.pause(0.2)
            assert app.screen.selected_serial() == first.identity.serial
