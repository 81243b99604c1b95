"""Snapshots of every screen at 80x24 and 120x40 (issue #15), grouped by feature.

Each test names its key script; the keys themselves are pressed by ``tests/support/ui_states.py``
(one place, shared with the 80x24 reachability test). The world is deterministic: the simulated
clock is fixed (``make_sim``'s FixedClock at 1 Sep 2021 12:00), serials and IMEIs come from seed
2021, the failed activation goes to a fixed port, and the inspector shows the committed protocol
vectors (the live exchanges carry fresh ECDSA signatures and keys on every run).

``make test-snapshot-update`` accepts changed pictures; look at each one first.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from phone_sim.device.exchange import Exchange
from phone_sim.protocol.messages import Verdict
from tests.support.one_phone import OnePhoneWorld
from tests.support.ui_states import STATES, open_state

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]
VECTORS = Path(__file__).parent.parent / "vectors"


def vector_exchange() -> Exchange:
    """The committed activation vector and its signed verdict, as the inspector would show them."""
    request = json.loads((VECTORS / "activation_request.json").read_text())
    answer = json.loads((VECTORS / "verdict_response.json").read_text())
    return Exchange(
        kind="activation",
        url=request["url"],
        request_headers=request["headers"],
        request_body=request["body"].encode(),
        sent_at=1630497600.0,
        status=answer["status"],
        response_headers=answer["headers"],
        response_body=answer["body"].encode(),
        verdict=Verdict.model_validate_json(answer["body"]),
        signature="valid",
    )


def snapshot(
    name: str,
    size: tuple[int, int],
    snap_compare: Callable[..., bool],
    make_sim: Callable[..., OnePhoneWorld],
    *,
    before: Callable[[OnePhoneWorld], None] | None = None,
    then: tuple[str, ...] = (),
    toast: str | None = None,
) -> None:
    """``then``: keys pressed once the state is reached (``f1``: the keys panel); ``toast``: a
    notification shown last, for a minute (the picture is taken well within it)."""
    app, sim = open_state(name, make_sim)
    if before is not None:
        before(sim)

    async def reach(pilot: Pilot[None]) -> None:
        await STATES[name].reach(pilot, sim)
        await pilot.press(*then)
        # Toasts fade on a real-time timer and a cursor blinks: neither belongs in a picture.
        pilot.app.clear_notifications()
        if toast is not None:
            pilot.app.notify(toast, timeout=60)
        for box in pilot.app.screen.query(Input):
            box.cursor_blink = False
        await pilot.pause(0.3)

    assert snap_compare(app, terminal_size=size, run_before=reach)


# --- power and boot -----------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", ["off", "boot", "boot-unlocked"])
def test_snapshot_power_and_boot(name: str, size: tuple[int, int], snap_compare, make_sim) -> None:  # type: ignore[no-untyped-def]
    # off: the app starts with the phone off (no keys); boot: it powers on and the bootloader
    # stays up (a frozen pace); boot-unlocked: the same with the unlocked-bootloader warning
    snapshot(name, size, snap_compare, make_sim)


# --- the setup wizard ---------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize(
    "name", ["setup-welcome", "setup-sims", "setup-network", "setup-activation-failed"]
)
def test_snapshot_setup(name: str, size: tuple[int, int], snap_compare, make_sim) -> None:  # type: ignore[no-untyped-def]
    # welcome: boot; sims: Cubacel in slot 1, Enter; network: Enter again;
    # activation-failed: Enter again with the server unreachable (Retry shown)
    snapshot(name, size, snap_compare, make_sim)


# --- the phone in use: home, lock, dialer, tray -------------------------------------------


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", ["home", "lock", "dialer", "tray-roaming", "confirm-reset"])
def test_snapshot_phone(name: str, size: tuple[int, int], snap_compare, make_sim) -> None:  # type: ignore[no-untyped-def]
    # home: activated with Telekom; lock: Cubacel, three days later; dialer: lock, then e;
    # tray-roaming: home, t, n, seven times down (Cubacel), Enter; confirm-reset: the palette's
    # Factory reset asks first
    snapshot(name, size, snap_compare, make_sim)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", ["setup-welcome", "lock"])
def test_snapshot_keys_panel(name: str, size: tuple[int, int], snap_compare, make_sim) -> None:  # type: ignore[no-untyped-def]
    # setup-welcome, f1: the app's keys first, the language list's cursor keys after them;
    # lock, f1: the lock screen's keys, then the app's (the footer beside it on more rows)
    snapshot(name, size, snap_compare, make_sim, then=("f1",))


@pytest.mark.parametrize("size", SIZES)
def test_snapshot_toast_above_the_footer(size: tuple[int, int], snap_compare, make_sim) -> None:  # type: ignore[no-untyped-def]
    # lock, then a SIM event's toast: it stands above the footer's two rows, which stay readable
    snapshot("lock", size, snap_compare, make_sim, toast="SIM 2: Vodafone inserted")


# --- tools: inspector, palette, vendor console -----------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_snapshot_inspector(size: tuple[int, int], snap_compare, make_sim) -> None:  # type: ignore[no-untyped-def]
    # home, i: the exchange shown is the committed vector (deterministic bytes)
    def recorded(sim: OnePhoneWorld) -> None:
        sim.phone.exchanges = [vector_exchange()]

    snapshot("inspector", size, snap_compare, make_sim, before=recorded)


@pytest.mark.parametrize("size", SIZES)
def test_snapshot_palette(size: tuple[int, int], snap_compare, make_sim) -> None:  # type: ignore[no-untyped-def]
    # home, ctrl+p
    snapshot("palette", size, snap_compare, make_sim)


@pytest.mark.parametrize("size", SIZES)
def test_snapshot_console_with_a_locked_phone(
    size: tuple[int, int], snap_compare, make_sim
) -> None:  # type: ignore[no-untyped-def]
    # lock (Cubacel, three days later), v, the phone selected in the fleet
    snapshot("console", size, snap_compare, make_sim)


@pytest.mark.parametrize("size", SIZES)
def test_snapshot_console_with_six_phones(size: tuple[int, int], snap_compare, make_sim) -> None:  # type: ignore[no-untyped-def]
    # six phones activated (Cuban and German SIMs), home, v: every row and its phone's name in
    # sight, and under them the audit trail's newest entries; the story's columns up to
    # "territory" (80x24: the names take the room of "lock due") or "reason" (120x40)
    snapshot("console-fleet", size, snap_compare, make_sim)


# --- around a lock: the vendor's notice, reminder, contact details; deliveries ----------------


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", ["home-notice", "home-reminder", "lock-contact"])
def test_snapshot_around_a_lock(name: str, size: tuple[int, int], snap_compare, make_sim) -> None:  # type: ignore[no-untyped-def]
    # A Cuban phone under a policy that warns and gives contact details (ui_states'
    # WARNING_POLICY): home-notice: a day after activation, the notice with its Dismiss button;
    # home-reminder: two days after, the reminder; lock-contact: three days after, locked
    snapshot(name, size, snap_compare, make_sim)


@pytest.mark.parametrize("size", SIZES)
def test_snapshot_console_with_a_pending_lock(
    size: tuple[int, int], snap_compare, make_sim
) -> None:  # type: ignore[no-untyped-def]
    # A German phone the operator has just held, v: the fleet shows the lock pending
    snapshot("console-pending", size, snap_compare, make_sim)


# --- version 2: the account lock and the unblock code -----------------------------------------


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize(
    "name", ["setup-account-locked", "account-sign-in", "lock-wrong-code", "console-unblock-code"]
)
def test_snapshot_account_and_unblock(
    name: str, size: tuple[int, int], snap_compare, make_sim
) -> None:  # type: ignore[no-untyped-def]
    # setup-account-locked: signed in, reset, setup stopped by the vendor; the account and a
    # wrong password typed, Enter; account-sign-in: home, m, the account typed;
    # lock-wrong-code: lock, click the code box, 12345678, Enter; console-unblock-code: console,
    # c, the phone's challenge, Enter (the code, new in every run, shown as 1234 5678)
    snapshot(name, size, snap_compare, make_sim)
