"""Up on a list's first row and Down on its last stay there (phone_sim/ui/widgets/lists.py).

Played: the SIM tray on an empty slot, Up on Telekom, the first carrier, and Enter put in AT&T
(USA), the last: Textual's option lists wrap. The console's and the inspector's tables
stop at their ends, as a phone's lists do; so now do the setup's languages, the tray's carriers
and its serving-network menu.
"""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from phone_sim.ui.app import Pace, make_app
from phone_sim.ui.screens.setup_screen import SetupScreen
from phone_sim.ui.screens.sim_tray_screen import SimTrayScreen
from phone_sim.ui.widgets.lists import ChoiceList
from tests.support.navigate import press_from
from tests.support.one_phone import OnePhoneWorld
from tests.support.waits import on_screen, wait_until

SIZE = (80, 24)


async def test_the_languages_and_the_carriers_stop_at_their_ends(sim: OnePhoneWorld) -> None:
    app = make_app(sim.world, pace=Pace.instant())
    async with app.run_test(size=SIZE) as pilot:
        await on_screen(pilot, SetupScreen)
        languages = app.screen.query_one("#languages", OptionList)
        assert languages.highlighted == 0
        await pilot.press("up")
        assert languages.highlighted == 0
        await pilot.press("end", "down")
        assert languages.highlighted == languages.option_count - 1

        await press_from(pilot, SetupScreen, "t", SimTrayScreen)
        carriers = app.screen.query_one("#carriers", OptionList)
        assert carriers.highlighted == 0  # an empty slot: the first carrier
        await pilot.press("up", "enter")  # Textual's list wrapped to AT&T (USA), its last
        slot = sim.phone.slot(1).sim
        assert slot is not None and slot.label == "Telekom"
        await pilot.press("end", "down")
        assert carriers.highlighted == carriers.option_count - 1


async def test_the_serving_network_menu_stops_at_home(sim: OnePhoneWorld) -> None:
    app = make_app(sim.world, pace=Pace.instant())
    async with app.run_test(size=SIZE) as pilot:
        await press_from(pilot, SetupScreen, "t", SimTrayScreen)
        await pilot.press("enter")  # Telekom in slot 1, on its home network
        await wait_until(pilot, lambda: sim.phone.slot(1).sim is not None)
        await pilot.press("n")  # the menu opens on "home network", its first entry
        await pilot.pause(0.1)
        await pilot.press("up", "enter")  # Textual's menu wrapped to roaming on AT&T, its last
        await pilot.pause(0.1)
        assert not sim.phone.slot(1).roaming


class _Disabled(App[None]):
    def compose(self) -> ComposeResult:
        yield ChoiceList(Option("first"), Option("off", disabled=True), Option("last"))


async def test_a_choice_list_steps_over_disabled_options_and_stops_at_its_ends() -> None:
    app = _Disabled()
    async with app.run_test() as pilot:
        options = app.query_one(ChoiceList)
        options.focus()
        await pilot.press("down")
        assert options.highlighted == 2  # over the disabled option
        await pilot.press("down")
        assert options.highlighted == 2
        await pilot.press("up", "up")
        assert options.highlighted == 0
