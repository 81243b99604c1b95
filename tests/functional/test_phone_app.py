"""The real phone app under Pilot, against the real vendor server on loopback.

Each test plays what a user does: boot, put SIMs in, walk through setup, and look at the screen.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Static

from phone_sim.device.provisioning import PhoneSpec
from phone_sim.device.sims import Sim, carrier
from phone_sim.device.state import Activation, DeviceState
from phone_sim.ui.app import Pace, PhoneApp, make_app
from phone_sim.ui.screens.dialer_screen import DialerScreen
from phone_sim.ui.screens.home_screen import HomeScreen
from phone_sim.ui.screens.lock_screen import LockScreen
from phone_sim.ui.screens.setup_screen import SetupScreen
from tests.functional.conftest import on_screen, wait_until
from tests.support.mitm import Headers, mitm_proxy
from tests.support.one_phone import OnePhoneWorld

STORY_MESSAGE = (
    "Xiaomi policy does not permit sale or provision of the product to the territory in which "
    "you have attempted to activate it. Please contact the retailers directly for additional "
    "information."
)
SIZE = (100, 42)


def app_for(sim: OnePhoneWorld) -> PhoneApp:
    return make_app(sim.world, pace=Pace.instant())


async def walk_through_setup(pilot: Pilot[None], sim: OnePhoneWorld, *sims: str) -> None:
    """Boot to setup, insert ``sims`` (carrier names) and press through the wizard."""
    await on_screen(pilot, SetupScreen)  # keys go to the focused widget: the language list
    for slot, name in enumerate(sims, start=1):
        sim.phone.insert_sim(slot, Sim.of(carrier(name), card=slot))
    await pilot.press("enter")  # language: the first one
    await pilot.press("enter")  # SIM cards: Next
    await pilot.press("enter")  # network: Next -> checking activation
    await wait_until(
        pilot,
        lambda: (
            sim.phone.state not in (DeviceState.SETUP, DeviceState.ACTIVATING)
            or sim.phone.last_error is not None
        ),
    )


async def three_days_later(pilot: Pilot[None], sim: OnePhoneWorld) -> None:
    """From the home screen, let three simulated days pass (the story's delay) with the key."""
    await wait_until(
        pilot, lambda: isinstance(pilot.app.screen, HomeScreen) and pilot.app.screen.ready
    )
    # Keys go to the focused widget's screen: wait until the home screen has taken focus.
    await wait_until(
        pilot,
        lambda: (
            sim.phone.pending is None
            and pilot.app.focused is not None
            and pilot.app.focused.screen is pilot.app.screen
        ),
    )
    target = sim.clock.now() + 3 * 86400
    await pilot.press("a")
    await wait_until(
        pilot,
        lambda: (
            sim.clock.now() >= target
            and pilot.app.fast_forward_to is None  # type: ignore[attr-defined]
            and sim.phone.pending is None
        ),
    )


def text_of(app: PhoneApp, selector: str) -> str:
    """The text a widget on the current screen shows ('' while the screen is still composing)."""
    found = app.screen.query(selector)
    return str(found.first(Static).render()) if found else ""


async def test_global_redmi_note_9_with_telekom_reaches_home(sim: OnePhoneWorld) -> None:
    assert sim.phone.identity.model == "Redmi Note 9" and sim.phone.identity.market == "MI"
    app = app_for(sim)
    async with app.run_test(size=SIZE) as pilot:
        await walk_through_setup(pilot, sim, "Telekom")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
        assert sim.phone.state is DeviceState.ACTIVATED
        assert "Activated" in text_of(app, "#about")
        assert sim.phone.exchanges[-1].signature == "valid"


@pytest.mark.slow
async def test_cubacel_shows_the_lock_screen_with_the_story_message(sim: OnePhoneWorld) -> None:
    app = app_for(sim)
    async with app.run_test(size=SIZE) as pilot:
        await walk_through_setup(pilot, sim, "Cubacel")
        await three_days_later(pilot, sim)
        await wait_until(pilot, lambda: isinstance(app.screen, LockScreen))
        await wait_until(pilot, lambda: text_of(app, "#lock-message") == STORY_MESSAGE)
        details = text_of(app, "#lock-details")
        assert "EMBARGOED_TERRITORY" in details
        assert sim.phone.identity.imeis[0] in details


@pytest.mark.slow
@pytest.mark.parametrize(("carrier_name", "locked"), [("Volna", True), ("MTS", False)])
async def test_crimean_operator_locks_while_russian_mts_does_not(
    sim: OnePhoneWorld, carrier_name: str, locked: bool
) -> None:
    app = app_for(sim)
    async with app.run_test(size=SIZE) as pilot:
        await walk_through_setup(pilot, sim, carrier_name)
        await three_days_later(pilot, sim)
        expected = LockScreen if locked else HomeScreen
        await wait_until(pilot, lambda: isinstance(app.screen, expected))
        assert sim.phone.slot(1).sim is not None
        assert sim.phone.slot(1).sim.home.code == ("250-60" if locked else "250-01")


@pytest.mark.slow
async def test_the_lock_survives_a_reboot_and_a_restart(
    make_sim: Callable[..., OnePhoneWorld],
) -> None:
    sim = make_sim()
    app = app_for(sim)
    async with app.run_test(size=SIZE) as pilot:
        await walk_through_setup(pilot, sim, "Koryolink")
        await three_days_later(pilot, sim)
        await wait_until(pilot, lambda: isinstance(app.screen, LockScreen))
        before = app.screen
        states: list[str] = []
        sim.phone.subscribe(
            lambda event: states.append(event.detail) if event.kind == "state" else None
        )
        await pilot.press("r")  # reboot
        await wait_until(
            pilot, lambda: isinstance(app.screen, LockScreen) and app.screen is not before
        )
        assert states == ["off", "booting", "locked"]
    sim.close()
    # A new process on the same data directory: the phone boots straight to the lock screen.
    again = make_sim()
    app = app_for(again)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, LockScreen))
        await wait_until(pilot, lambda: text_of(app, "#lock-message") == STORY_MESSAGE)


@pytest.mark.slow
async def test_no_key_leaves_the_lock_screen_but_emergency_calls_work(sim: OnePhoneWorld) -> None:
    app = app_for(sim)
    async with app.run_test(size=SIZE) as pilot:
        await walk_through_setup(pilot, sim, "Syriatel")
        await three_days_later(pilot, sim)
        await wait_until(pilot, lambda: isinstance(app.screen, LockScreen))
        for key in ("escape", "tab", "enter", "h", "q", "backspace", "ctrl+r"):
            if isinstance(app.screen, DialerScreen):
                await pilot.press("escape")
            await pilot.press(key)
            await pilot.pause()
        if isinstance(app.screen, DialerScreen):
            await pilot.press("escape")
        await wait_until(pilot, lambda: sim.phone.pending is None)
        assert isinstance(app.screen, LockScreen) and sim.phone.state is DeviceState.LOCKED
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, DialerScreen))
        await pilot.press("1", "1", "2", "enter")
        assert sim.phone.active_call == "112"
        # The field is cleared for the next number, not left to grow into "1125551234".
        assert app.screen.query_one("#number", Input).value == ""
        await pilot.press("escape")
        await pilot.pause()
        assert sim.phone.dial("+4930123456").placed is False
        assert isinstance(app.screen, LockScreen)


@pytest.mark.slow
async def test_a_german_sim_does_not_lift_a_lock_decided_at_activation(sim: OnePhoneWorld) -> None:
    app = app_for(sim)
    async with app.run_test(size=SIZE) as pilot:
        await walk_through_setup(pilot, sim, "MCI")
        await three_days_later(pilot, sim)
        await wait_until(pilot, lambda: isinstance(app.screen, LockScreen))
        sent = len(sim.phone.exchanges)
        sim.phone.replace_sim(1, Sim.of(carrier("Vodafone")))  # a SIM change triggers a check-in
        await wait_until(
            pilot, lambda: len(sim.phone.exchanges) > sent and sim.phone.pending is None
        )
        await pilot.press("ctrl+r")  # and so does Retry
        await wait_until(
            pilot, lambda: len(sim.phone.exchanges) > sent + 1 and sim.phone.pending is None
        )
        assert [e.kind for e in sim.phone.exchanges[sent:]] == ["checkin", "checkin"]
        assert all(
            e.verdict is not None and e.verdict.status == "locked"
            for e in sim.phone.exchanges[sent:]
        )
        assert isinstance(app.screen, LockScreen) and sim.phone.state is DeviceState.LOCKED


def _flip_status(headers: Headers, body: bytes) -> tuple[Headers, bytes]:
    return headers, body.replace(b'"activated"', b'"locked"')


def _flip_last_signature_byte(headers: Headers, body: bytes) -> tuple[Headers, bytes]:
    # Flip a decoded byte: editing a base64 character could land in its ignored padding bits.
    name = next(k for k in headers if k.lower() == "signature")
    label, _, rest = headers[name].partition("=:")
    raw = bytearray(base64.b64decode(rest.rstrip(":")))
    raw[-1] ^= 0x01
    headers[name] = f"{label}=:{base64.b64encode(bytes(raw)).decode()}:"
    return headers, body


def _drop_signature(headers: Headers, body: bytes) -> tuple[Headers, bytes]:
    return {
        k: v for k, v in headers.items() if k.lower() not in ("signature", "signature-input")
    }, body


@pytest.mark.parametrize(
    ("tamper", "signature"),
    [
        (_flip_status, "invalid"),
        (_flip_last_signature_byte, "invalid"),
        (_drop_signature, "missing"),
    ],
)
@pytest.mark.slow
async def test_a_tampered_verdict_changes_nothing(
    sim: OnePhoneWorld, tamper: Callable[[Headers, bytes], tuple[Headers, bytes]], signature: str
) -> None:
    assert sim.server is not None
    with mitm_proxy(sim.server.url) as mitm:
        sim.client.base_url = mitm.url
        mitm.tamper_response = tamper
        app = app_for(sim)
        async with app.run_test(size=SIZE) as pilot:
            await walk_through_setup(pilot, sim, "Cubacel")
            await wait_until(pilot, lambda: sim.phone.last_error is not None)
            assert sim.phone.state is DeviceState.SETUP
            assert isinstance(app.screen, SetupScreen)
            assert "Activation server error" in text_of(app, "#activation-status")
            assert sim.phone.exchanges[-1].signature == signature
            on_disk = sim.phone.storage.load_state()  # type: ignore[union-attr]
            assert on_disk.activation is Activation.NONE and on_disk.last_sequence == 0
            assert mitm.seen and mitm.seen[-1][2] == 200  # the server did answer


@pytest.mark.slow
async def test_a_tampered_request_is_refused_by_the_server_and_changes_nothing(
    sim: OnePhoneWorld,
) -> None:
    assert sim.server is not None

    def pretend_german(headers: Headers, body: bytes) -> tuple[Headers, bytes]:
        data = json.loads(body)
        data["sims"][0]["home_mcc"], data["sims"][0]["home_mnc"] = "262", "01"
        return headers, json.dumps(data, sort_keys=True, separators=(",", ":")).encode()

    with mitm_proxy(sim.server.url) as mitm:
        sim.client.base_url = mitm.url
        mitm.tamper_request = pretend_german
        app = app_for(sim)
        async with app.run_test(size=SIZE) as pilot:
            await walk_through_setup(pilot, sim, "Cubacel")
            await wait_until(pilot, lambda: sim.phone.last_error is not None)
            assert mitm.seen[-1][2] == 401
            assert sim.phone.state is DeviceState.SETUP
            assert "signature" in (sim.phone.last_error or "")
            assert sim.server.store.device(sim.phone.identity.serial) is None


async def test_unlocked_bootloader_warning_at_boot(make_sim: Callable[..., OnePhoneWorld]) -> None:
    sim = make_sim(PhoneSpec(bootloader_unlocked=True))
    app = make_app(sim.world)  # real pace: the warning stays up long enough to read
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.1)
        assert "bootloader is unlocked" in text_of(app, "#warning")
        await pilot.press("ctrl+q")


def test_lock_screen_snapshot(
    snap_compare: Callable[..., bool], make_sim: Callable[..., OnePhoneWorld]
) -> None:
    sim = make_sim()
    sim.phone.power_on()
    sim.phone.finish_boot()
    sim.phone.insert_sim(1, Sim.of(carrier("Cubacel")))
    assert sim.activate().accepted
    sim.advance(3 * 86400)
    assert sim.phone.state is DeviceState.LOCKED
    sim.phone.reboot()

    async def settle(pilot: Pilot[None]) -> None:
        # boots (instant pace) into the lock screen; wait until it is there
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, LockScreen))
        await pilot.pause(0.2)

    assert snap_compare(app_for(sim), terminal_size=SIZE, run_before=settle)


async def test_custom_rom_setup_says_so_and_never_contacts_the_vendor(
    make_sim: Callable[..., OnePhoneWorld],
) -> None:
    sim = make_sim(PhoneSpec(bootloader_unlocked=True, custom_rom=True))
    app = app_for(sim)
    async with app.run_test(size=SIZE) as pilot:
        await on_screen(pilot, SetupScreen)
        sim.phone.insert_sim(1, Sim.of(carrier("Cubacel")))
        await pilot.press("enter", "enter", "enter")
        # The note shows from the first step: the last step is reached when Finish has the focus
        # (an Enter pressed before went to an earlier step, seen at load 20).
        await wait_until(pilot, lambda: getattr(app.focused, "id", None) == "finish")
        note = text_of(app, "#custom-rom-note")
        assert "no vendor" in note.lower() or "without the vendor" in note, note
        assert sim.phone.exchanges == []
        await pilot.press("enter")  # Finish
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
        await pilot.press("a")  # three simulated days pass
        await wait_until(pilot, lambda: app.fast_forward_to is None)
        assert sim.phone.state is DeviceState.ACTIVATED and sim.phone.exchanges == []
        assert sim.server is not None and sim.server.store.device(sim.phone.identity.serial) is None


async def test_the_offline_warning_shows_on_the_home_screen_and_the_status_bar(
    make_sim: Callable[..., OnePhoneWorld], tmp_path: Path
) -> None:
    policy = tmp_path / "offline.toml"
    packaged = resources.files("server_stub.policy.packaged") / "default.toml"
    policy.write_text(
        packaged.read_text(encoding="utf-8") + "\n[offline]\nlock_after_days = 5\n"
        "warn_days_before = 1\n",
        encoding="utf-8",
    )
    sim = make_sim(policy_path=policy)
    app = app_for(sim)
    async with app.run_test(size=SIZE) as pilot:
        await walk_through_setup(pilot, sim, "Telekom")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen) and app.screen.ready)
        assert sim.server is not None
        sim.server.stop()  # the vendor unreachable from now on
        assert text_of(app, "#warning") == ""
        sim.clock.advance(4 * 86400)
        await wait_until(pilot, lambda: "locks on" in text_of(app, "#warning"))
        assert "Connect to the internet: this device locks on 06 Sep 2021 12:00 UTC" in text_of(
            app, "#warning"
        )
        await wait_until(pilot, lambda: "⚠ locks 06 Sep 12:00" in text_of(app, "StatusBar"))
