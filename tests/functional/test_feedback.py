"""Issue #15's feedback and details, each as a person meets it in the real app under Pilot."""

from __future__ import annotations

from collections.abc import Callable

from textual.widgets import DataTable, Static

from phone_sim.device.exchange import Exchange
from phone_sim.device.state import Activation, DeviceState
from phone_sim.device.status import BARS
from phone_sim.ui.screens.confirm_screen import ConfirmScreen
from phone_sim.ui.screens.inspector_screen import summary
from phone_sim.ui.screens.lock_screen import LockScreen
from phone_sim.ui.screens.vendor_console_screen import VendorConsoleScreen
from server_stub.admin.models import AuditPage
from tests.support.one_phone import OnePhoneWorld
from tests.support.ui_states import STATES, in_state, open_state, wait_until

SIZE = (100, 40)


def text(app: object, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())  # type: ignore[attr-defined]


async def test_retry_on_the_lock_screen_says_what_the_vendor_answered_until_the_next_action(
    make_sim: Callable[..., OnePhoneWorld],
) -> None:
    async with in_state("lock", make_sim, SIZE) as (app, pilot, sim):
        sent = len(sim.phone.exchanges)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: len(sim.phone.exchanges) > sent)
        await wait_until(pilot, lambda: "answered locked" in text(app, "#lock-outcome"))
        assert "EMBARGOED_TERRITORY" in text(app, "#lock-outcome")
        await pilot.pause(1.0)  # it stays: no toast that fades
        assert "answered locked" in text(app, "#lock-outcome")
        await pilot.press("w")  # the next action clears it
        await wait_until(pilot, lambda: text(app, "#lock-outcome") == "")
        assert isinstance(app.screen, LockScreen)


async def test_factory_reset_asks_first_and_cancel_keeps_everything(
    make_sim: Callable[..., OnePhoneWorld],
) -> None:
    async with in_state("home", make_sim, SIZE) as (app, pilot, sim):
        app.action_factory_reset()  # the palette's "Factory reset"
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert sim.phone.activation is Activation.ACTIVATED  # nothing erased yet
        await pilot.press("enter")  # the focused button is Cancel
        await wait_until(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
        assert sim.phone.activation is Activation.ACTIVATED
        app.action_factory_reset()
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_until(pilot, lambda: sim.phone.activation is Activation.NONE)


async def test_the_palette_screenshot_is_saved_in_the_data_directory_and_says_where(
    make_sim: Callable[..., OnePhoneWorld],
) -> None:
    async with in_state("home", make_sim, SIZE) as (app, pilot, sim):
        app.action_screenshot()  # what the palette's "Screenshot" runs
        folder = sim.data_dir / "screenshots"
        await wait_until(pilot, lambda: folder.is_dir() and any(folder.glob("*.svg")))
        await wait_until(
            pilot, lambda: any("Saved screenshot" in str(n.message) for n in app._notifications)
        )
        said = " ".join(str(n.message) for n in app._notifications)
        assert str(folder) in said and "Failed" not in said


async def test_welcome_says_how_to_go_on(make_sim: Callable[..., OnePhoneWorld]) -> None:
    async with in_state("setup-welcome", make_sim, SIZE) as (app, _pilot, _sim):
        assert "Enter to continue" in text(app, "#step-hint")


async def test_the_mobile_network_step_shows_serving_network_and_roaming(
    make_sim: Callable[..., OnePhoneWorld],
) -> None:
    async with in_state("setup-network", make_sim, SIZE) as (app, pilot, _sim):
        await wait_until(pilot, lambda: "serving network" in text(app, "#network-report"))
        report = text(app, "#network-report")
        assert "serving network: Cubacel 368-01" in report and "roaming: no" in report


async def test_a_powered_off_phone_shows_no_signal_bars(
    make_sim: Callable[..., OnePhoneWorld],
) -> None:
    app, sim = open_state("off", make_sim)
    from phone_sim.device.sims import Sim, carrier

    sim.phone.insert_sim(1, Sim.of(carrier("Telekom")))
    async with app.run_test(size=SIZE) as pilot:
        await STATES["off"].reach(pilot, sim)
        await pilot.pause(0.3)
        screen_text = app.export_screenshot()
        assert sim.phone.state is DeviceState.OFF
        assert not any(bar in screen_text for bar in BARS) and "Telekom" not in screen_text


async def test_the_audit_trail_shows_each_entry_once_when_polls_overlap(
    make_sim: Callable[..., OnePhoneWorld],
) -> None:
    async with in_state("console", make_sim, (120, 40)) as (app, pilot, sim):
        console = app.screen
        assert isinstance(console, VendorConsoleScreen) and sim.admin is not None
        audit = console.query_one("#audit", DataTable)
        await pilot.pause(0.3)
        # Two polls that started before either answered carry the same page.
        page = sim.admin.audit(after_id=0, limit=200)
        shown = audit.row_count
        for _ in range(2):
            fetched = VendorConsoleScreen.Fetched(sim.admin.devices(), None, page, False, None)
            console.post_message(fetched)
        await pilot.pause(0.3)
        ids = [audit.get_row_at(i)[0] for i in range(audit.row_count)]
        assert len(ids) == len(set(ids)) == shown == len(page.entries)
        assert isinstance(page, AuditPage)


async def test_the_inspector_says_in_plain_words_what_was_asked_and_answered(
    make_sim: Callable[..., OnePhoneWorld],
) -> None:
    async with in_state("inspector", make_sim, SIZE) as (app, pilot, _sim):
        await pilot.pause(0.2)
        first = text(app, "#exchange-detail").splitlines()[0]
        assert first.startswith("The phone asked to be activated with a Telekom SIM (262-01)")
        assert "the vendor answered ACTIVATED" in first and "signature on it is valid" in first


def test_a_refused_answer_says_why_in_plain_words() -> None:
    base = dict(
        kind="checkin", url="http://x/v1", request_headers={}, request_body=b"{}", sent_at=0.0
    )
    tampered = Exchange(**base, status=200, signature="invalid", error="bad signature")  # type: ignore[arg-type]
    assert "checked in with no SIM" in summary(tampered)
    assert "refused: its signature does not match" in summary(tampered)
    unsigned = Exchange(**base, status=200, signature="missing")  # type: ignore[arg-type]
    assert "carries no vendor signature" in summary(unsigned)
    down = Exchange(**base, error="connection refused")  # type: ignore[arg-type]
    assert "no answer came (connection refused)" in summary(down)
