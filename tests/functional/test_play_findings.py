"""What playing the README's story as a newcomer found, each as that person met it under Pilot.

The story was played in tmux at 80x24 and 120x40; each test here failed before its fix.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
from rich.cells import cell_len
from textual.widget import Widget
from textual.widgets import DataTable, Static

from phone_sim.device.sims import Sim, carrier
from phone_sim.device.state import DeviceState
from phone_sim.protocol.clock import ClockMode
from phone_sim.protocol.identity import Factory
from phone_sim.ui.app import Pace, PhoneApp, make_app
from phone_sim.ui.screens.inspector_screen import InspectorScreen, summary
from phone_sim.ui.screens.setup_screen import SetupScreen
from phone_sim.ui.widgets.status_bar import StatusBar
from phone_sim.world.launch import WorldOptions, launch
from phone_sim.world.world import World
from server_stub.datadir.settings import ServerSettings
from server_stub.runtime.embedded import EmbeddedVendorServer
from tests.support.one_phone import OnePhoneWorld
from tests.support.ui_states import activate_in_view, in_state
from tests.support.waits import on_screen, wait_until

SMALL = (80, 24)


@contextmanager
def standalone(tmp_path: Path) -> Iterator[tuple[EmbeddedVendorServer, World]]:
    """The README's standalone path: a vendor of its own (a simulated clock standing still)
    and a world of one phone pointed at it, as ``phone-sim --server`` makes."""
    base = tmp_path / "standalone"
    Factory.open(base / "factory")
    settings = ServerSettings(
        data_dir=base / "vendor", port=0, clock_mode=ClockMode.SIMULATED, clock_speed=0
    )
    with EmbeddedVendorServer(settings) as server:
        world = launch(WorldOptions(data=base, server=server.url))
        with world:
            yield server, world


def text(app: object, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())  # type: ignore[attr-defined]


def in_sight(app: object, selector: str) -> bool:
    """The widget lies wholly inside what its scrolling parent shows (not scrolled away)."""
    screen = app.screen  # type: ignore[attr-defined]
    widget: Widget = screen.query_one(selector)
    geometry = screen.find_widget(widget)
    return bool(widget.region.height) and geometry.clip.contains_region(geometry.region)


async def test_the_answer_to_retry_on_the_lock_screen_is_in_sight_at_80x24(
    make_sim: Callable[..., OnePhoneWorld],
) -> None:
    # Played: locked at 80x24, ctrl+r. The vendor answered, but its answer was below the
    # message and details, scrolled out of the lock screen's body: nothing seemed to happen.
    async with in_state("lock", make_sim, SMALL) as (app, pilot, _sim):
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: "answered locked" in text(app, "#lock-outcome"))
        await wait_until(pilot, lambda: in_sight(app, "#lock-outcome"))


async def test_the_inspector_says_what_a_time_exchange_asked_and_got(tmp_path: Path) -> None:
    # Played: the README's standalone path (make serve-vendor, a phone with --server), then
    # `i`. The vendor's signed time read "None: None" in the table, and its detail "The phone
    # checked in with no SIM; the server answered HTTP 200; refused: not a verdict."
    with standalone(tmp_path) as (_, world):
        phone = world.phone().phone
        app = make_app(world, pace=Pace.instant())
        async with app.run_test(size=SMALL) as pilot:
            await wait_until(pilot, lambda: any(ex.time for ex in phone.exchanges))
            await on_screen(pilot, SetupScreen)
            await pilot.press("i")
            await wait_until(pilot, lambda: isinstance(app.screen, InspectorScreen))
            index = next(i for i, ex in enumerate(phone.exchanges) if ex.time)
            table = app.screen.query_one(DataTable)
            kind, result = (str(c) for c in table.get_row(str(index))[1::3])
            assert kind == "time" and result == "01 Sep 2021 12:00:00 UTC (simulated, stopped)"
            assert summary(phone.exchanges[index]) == (
                "The phone asked the vendor's time; the vendor answered 01 Sep 2021 "
                "12:00:00 UTC (simulated, stopped); accepted: the vendor's signature on it is "
                "valid."
            )


async def test_with_several_phones_the_status_bar_still_shows_the_time(tmp_path: Path) -> None:
    # Played: `n` after the palette's "Add a phone", at 80x24 and at 120x40 alike (the phone is
    # 60 columns wide). The bar named the phone and cut off the rest: "phone-2 (Redmi Note 9)
    # 1:no SIM  2:no SIM  04 Sep 2021", no time, no battery, no warning.
    world = launch(WorldOptions(data=tmp_path / "world", phones=2, speed=0, seed=5))
    world.phone().phone.insert_sim(1, Sim.of(carrier("Cubacel")))
    world.phone().phone.insert_sim(2, Sim.of(carrier("Telekom"), card=2))
    app = make_app(world, pace=Pace.instant())
    with world:
        async with app.run_test(size=SMALL) as pilot:

            def rows() -> list[str]:
                bars = app.screen.query(StatusBar)
                return str(bars.first().render()).splitlines() if bars else []

            await wait_until(pilot, lambda: len(rows()) > 1)
            bar = app.screen.query_one(StatusBar)
            assert rows()[0].startswith("phone (Redmi Note 9)  1:Cubacel")
            assert "01 Sep 2021 12:00  ▮87%" in rows()[-1]
            assert all(cell_len(row) <= bar.content_region.width for row in rows())
            assert bar.region.height == len(rows())  # every row of it on screen


def shows(app: PhoneApp, name: str, kind: type) -> bool:
    """Phone ``name`` is in view, on a screen of ``kind`` that has finished mounting."""
    screen = app.screen
    return app.current_name == name and isinstance(screen, kind) and bool(screen.ready)


async def test_a_phone_added_from_the_palette_comes_back_after_a_restart(tmp_path: Path) -> None:
    # Played: palette "Add a phone", ctrl+q, `make run` again: phone-2 was gone (its data still
    # in DATA/phones/phone-2), and "Add a phone" then made a new phone-2 over it, erasing it.
    data = tmp_path / "world"
    world = launch(WorldOptions(data=data, speed=0, seed=5))
    app = make_app(world, pace=Pace.instant())
    with world:
        async with app.run_test(size=SMALL) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, SetupScreen))
            app.action_add_phone()  # the palette's "Add a phone"
            await wait_until(pilot, lambda: shows(app, "phone-2", SetupScreen))
    serial = world.phone("phone-2").phone.identity.serial

    world = launch(WorldOptions(data=data, speed=0, seed=5))  # `make run` again
    app = make_app(world, pace=Pace.instant())
    with world:
        assert list(world.phones) == ["phone", "phone-2"]
        assert world.phone("phone-2").phone.identity.serial == serial
        async with app.run_test(size=SMALL) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, SetupScreen))
            app.action_add_phone()
            await wait_until(pilot, lambda: shows(app, "phone-3", SetupScreen))
        assert world.phone("phone-2").phone.identity.serial == serial


def test_phones_come_back_in_the_order_they_were_named(tmp_path: Path) -> None:
    data = tmp_path / "world"
    launch(WorldOptions(data=data, phones=11, speed=0, seed=5)).close()
    (data / "phones" / "phone-12").mkdir()  # made, never provisioned: not a phone
    world = launch(WorldOptions(data=data, speed=0, seed=5))
    with world:
        assert list(world.phones) == ["phone", *(f"phone-{n}" for n in range(2, 12))]


async def test_a_phone_whose_vendor_moved_on_elsewhere_catches_up_without_an_error(
    tmp_path: Path,
) -> None:
    # Played: the standalone server, two phones in two terminals; `a` in one moved the vendor
    # three days on. The other kept its clock until its next contact, which showed "Activation
    # server error: HTTP 401 signature_stale" before it took the vendor's time and succeeded.
    with standalone(tmp_path) as (server, world):
        phone = world.phone().phone
        app = make_app(world, pace=Pace.instant())
        # Every toast shown, kept: a toast leaves the app's list once its six seconds are over,
        # and on a loaded machine the round trips after it took longer than that (a flake).
        said: list[tuple[str, str]] = []
        shown = app.notify

        def notify(message: str, *args: Any, **kwargs: Any) -> None:
            said.append((str(kwargs.get("severity", "information")), str(message)))
            shown(message, *args, **kwargs)

        app.notify = notify  # type: ignore[method-assign]
        async with app.run_test(size=SMALL) as pilot:
            await activate_in_view(pilot, app, phone, "Telekom")
            before = phone.clock.now()
            # Another terminal, the operator's, moves the vendor three days on.
            token = server.settings.admin_token_path.read_text().strip()
            moved = requests.post(
                server.url + "/admin/clock/advance",
                json={"seconds": 3 * 86_400},
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
            )
            assert moved.status_code == 200, moved.text
            app.request_activation()  # this phone's next contact: a check-in
            await wait_until(pilot, lambda: phone.clock.now() >= before + 3 * 86_400)
            await wait_until(
                pilot, lambda: (phone.persisted.verdict_at or 0) >= before + 3 * 86_400
            )
            assert not [m for severity, m in said if severity == "error"], said
            assert any("clock has moved on" in m for _, m in said), said
            assert phone.state is DeviceState.ACTIVATED
