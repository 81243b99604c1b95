"""The decision engine over time, without a server: delays, stickiness, holds, releases, pardons."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from phone_sim.protocol.messages import SimReport, VerdictStatus
from server_stub.engine.decide import Outcome, evaluate, place_hold, project, release, state_name
from server_stub.engine.memory import DeviceMemory, Source
from server_stub.policy import Policy, Reason, load_default_policy, parse_policy
from tests.support.policies import (
    DAY,
    HOUR,
    delay,
    dual_sim,
    policy_text,
    region_lock,
    sim_swap_lifts_lock,
    without_cuba,
)
from tests.support.signed_client import SEPT_2021, sim

T0 = SEPT_2021
ACTIVATED, LOCKED = VerdictStatus.ACTIVATED, VerdictStatus.LOCKED
CUBACEL, TELEKOM, SYRIATEL, CHINA_MOBILE = "368-01", "262-01", "417-01", "460-00"


def policy(*replacements: tuple[str, str], extra: str = "") -> Policy:
    return parse_policy(policy_text(*replacements, extra=extra))


@dataclass
class Device:
    """The engine's view of one device: memory carried from contact to contact."""

    policy: Policy
    market: str = "MI"
    memory: DeviceMemory = field(default_factory=DeviceMemory)
    at: int = T0

    def contact(self, *sims: SimReport, after: int = 0) -> Outcome:
        self.at += after
        outcome = evaluate(self.policy, self.memory, market=self.market, sims=sims, at=self.at)
        self.memory = outcome.memory
        return outcome

    def state(self) -> str:
        return state_name(
            self.memory, project(self.policy, self.memory, market=self.market, at=self.at)
        )


# --- delay ------------------------------------------------------------------------------------


def test_embargoed_activation_is_flagged_then_locked_when_the_delay_has_passed() -> None:
    device = Device(load_default_policy())
    first = device.contact(sim(CUBACEL))
    assert (first.status, first.reason, first.rule) == (
        ACTIVATED,
        Reason.ACTIVATION_OK,
        "flagged:lock-pending",
    )
    assert first.lock_due_at == T0 + 3 * DAY
    assert first.next_checkin_after == DAY
    assert device.state() == "flagged"

    almost = device.contact(after=2 * DAY + 23 * HOUR)
    assert almost.status is ACTIVATED
    assert almost.next_checkin_after == HOUR  # come back exactly when the lock is due

    due = device.contact(after=HOUR)
    assert (due.status, due.reason, due.rule) == (
        LOCKED,
        Reason.EMBARGOED_TERRITORY,
        "embargo:activation:home",
    )
    assert due.next_checkin_after == DAY  # a locked phone keeps checking in
    assert due.cause is not None and due.cause.territory == "Cuba"
    assert device.state() == "locked"


def test_delay_zero_locks_at_activation() -> None:
    outcome = Device(policy(delay(0))).contact(sim(CUBACEL))
    assert (outcome.status, outcome.reason) == (LOCKED, Reason.EMBARGOED_TERRITORY)


def test_next_checkin_is_never_under_a_minute() -> None:
    device = Device(load_default_policy())
    device.contact(sim(CUBACEL))
    assert device.contact(after=3 * DAY - 10).next_checkin_after == 60


def test_an_enforced_lock_survives_a_longer_delay() -> None:
    device = Device(policy(delay(0)))
    assert device.contact(sim(CUBACEL)).status is LOCKED
    device.policy = policy(delay(30))
    assert device.contact(after=DAY).status is LOCKED


# --- what is judged ---------------------------------------------------------------------------


def test_a_tourist_roaming_on_cubacel_is_never_flagged() -> None:
    device = Device(policy(delay(0)))
    for _ in range(5):
        outcome = device.contact(sim(TELEKOM, serving=CUBACEL), after=DAY)
        assert (outcome.status, outcome.rule, outcome.lock_due_at) == (
            ACTIVATED,
            "no-embargoed-network",
            None,
        )


def test_a_cubacel_home_sim_is_flagged_in_a_phone_activated_in_germany() -> None:
    device = Device(load_default_policy())
    device.contact(sim(TELEKOM))
    inserted = device.contact(sim(CUBACEL, serving=TELEKOM), after=DAY)
    assert inserted.lock_due_at == T0 + DAY + 3 * DAY
    assert [f.source for f in inserted.memory.flags] == [Source.SIM]
    # Sticky by default: taking the SIM out again does not clear the flag.
    assert device.contact(sim(TELEKOM), after=DAY).lock_due_at == T0 + 4 * DAY
    locked = device.contact(after=2 * DAY)
    assert (locked.status, locked.rule) == (LOCKED, "embargo:sim:home")


def test_sim_swap_lifts_a_lock_that_came_from_the_sim_only() -> None:
    device = Device(policy(sim_swap_lifts_lock(), delay(0)))
    device.contact(sim(TELEKOM))
    assert device.contact(sim(CUBACEL), after=DAY).status is LOCKED
    lifted = device.contact(sim(TELEKOM), after=DAY)
    assert (lifted.status, lifted.reason, lifted.rule) == (
        ACTIVATED,
        Reason.RELEASED,
        "release:re-evaluated",
    )


def test_sim_swap_does_not_lift_the_activation_territory() -> None:
    device = Device(policy(sim_swap_lifts_lock(), delay(0)))
    assert device.contact(sim(CUBACEL)).status is LOCKED
    assert device.contact(sim(TELEKOM), after=DAY).status is LOCKED


def test_without_a_sticky_activation_territory_a_sim_swap_lifts_every_lock() -> None:
    # The story's reported workaround, as a policy can choose to allow it.
    loose = ("activation_territory_sticks = true", "activation_territory_sticks = false")
    device = Device(policy(sim_swap_lifts_lock(), loose, delay(0)))
    assert device.contact(sim(CUBACEL)).status is LOCKED
    swapped = device.contact(sim(TELEKOM), after=HOUR)
    assert (swapped.status, swapped.reason) == (ACTIVATED, Reason.RELEASED)
    assert device.contact(sim(CUBACEL), after=HOUR).status is LOCKED  # and back again


def test_factory_reset_reactivation_gets_the_same_decision() -> None:
    # The server keeps the first activation's SIMs; a re-activation with another SIM and a
    # fresh phone (no SIMs at all) are judged on them, with the original lock date.
    device = Device(load_default_policy())
    device.contact(sim(CUBACEL))
    again = device.contact(sim(TELEKOM), after=DAY)
    assert (again.status, again.lock_due_at) == (ACTIVATED, T0 + 3 * DAY)
    assert device.contact(after=2 * DAY).status is LOCKED


def test_a_phone_activated_without_a_sim_takes_its_first_sims_as_activation_sims() -> None:
    device = Device(policy(delay(0), sim_swap_lifts_lock()))
    assert device.contact().rule == "no-sim"
    assert device.contact(sim(CUBACEL), after=DAY).status is LOCKED
    assert device.memory.activation_sims == (sim(CUBACEL),)
    assert device.contact(sim(TELEKOM), after=DAY).status is LOCKED  # activation territory


@pytest.mark.parametrize(
    ("rule", "slots", "locked"),
    [
        ("any", (TELEKOM, CUBACEL), True),
        ("any", (TELEKOM, TELEKOM), False),
        ("all", (TELEKOM, CUBACEL), False),
        ("all", (SYRIATEL, CUBACEL), True),
        ("first", (TELEKOM, CUBACEL), False),
        ("first", (CUBACEL, TELEKOM), True),
    ],
)
def test_dual_sim_rules(rule: str, slots: tuple[str, str], locked: bool) -> None:
    device = Device(policy(delay(0), dual_sim(rule)))
    outcome = device.contact(sim(slots[0], slot=1), sim(slots[1], slot=2))
    assert (outcome.status is LOCKED) is locked


def test_serving_network_counts_at_activation_only_when_the_policy_says_so() -> None:
    serving = ('sim_data = ["home"]', 'sim_data = ["home", "serving"]')
    tourist = Device(policy(delay(0), serving)).contact(sim(TELEKOM, serving=CUBACEL))
    assert (tourist.status, tourist.rule) == (LOCKED, "embargo:activation:serving")
    # ... and never at a check-in: the roaming tourist activated at home stays activated.
    device = Device(policy(delay(0), serving))
    device.contact(sim(TELEKOM, serving=TELEKOM))
    assert device.contact(sim(TELEKOM, serving=CUBACEL), after=DAY).status is ACTIVATED


# --- region lock ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("market", "first_sim", "locked"),
    [
        ("CN", TELEKOM, True),
        ("CN", CHINA_MOBILE, False),
        ("EU", TELEKOM, False),
        ("EU", "310-260", True),  # T-Mobile USA in an EEA phone
        ("MI", TELEKOM, False),  # Global: no region rule
    ],
)
def test_region_lock(market: str, first_sim: str, locked: bool) -> None:
    device = Device(policy(extra=region_lock(CN="first_sim", EU="first_sim")), market=market)
    outcome = device.contact(sim(first_sim))
    if locked:
        assert (outcome.status, outcome.reason, outcome.rule) == (
            LOCKED,
            Reason.REGION_LOCKED,
            "region:first_sim",
        )
    else:
        assert outcome.status is ACTIVATED


def test_region_lock_judges_the_first_sim_only() -> None:
    device = Device(policy(extra=region_lock(CN="first_sim")), market="CN")
    device.contact(sim(CHINA_MOBILE))
    assert device.contact(sim(TELEKOM), after=DAY).status is ACTIVATED


# --- holds and releases -----------------------------------------------------------------------


def test_hold_locks_at_the_next_contact_and_release_sends_released() -> None:
    device = Device(load_default_policy())
    device.contact(sim(TELEKOM))
    device.memory = place_hold(device.memory, reason="investigation", message=None, at=device.at)
    assert device.state() == "held"
    held = device.contact(after=HOUR)
    assert (held.status, held.reason, held.message) == (
        LOCKED,
        Reason.INVESTIGATION_HOLD,
        device.policy.hold_message,
    )
    freed = release(device.policy, device.memory, market="MI", reason="cleared", at=device.at)
    assert freed is not None
    device.memory = freed
    assert device.state() == "released"
    back = device.contact(after=HOUR)
    assert (back.status, back.reason, back.rule, back.message) == (
        ACTIVATED,
        Reason.RELEASED,
        "release:operator",
        "Your device can now be used.",
    )
    assert device.contact(after=DAY).reason is Reason.ACTIVATION_OK


def test_a_release_pardons_the_territory_and_only_new_evidence_flags_again() -> None:
    device = Device(policy(delay(0)))
    assert device.contact(sim(CUBACEL)).status is LOCKED
    freed = release(device.policy, device.memory, market="MI", reason="cleared", at=device.at)
    assert freed is not None and freed.pardoned == {"territory:Cuba"}
    device.memory = freed
    assert device.contact(after=DAY).reason is Reason.RELEASED
    # The activation SIM and another Cubacel SIM are old evidence: still activated.
    assert device.contact(sim("368-02"), after=DAY).rule == "pardoned"
    # A Syriatel SIM is new evidence.
    syria = device.contact(sim(SYRIATEL), after=DAY)
    assert (syria.status, syria.rule) == (LOCKED, "embargo:sim:home")


def test_release_of_a_device_with_nothing_to_release_is_none() -> None:
    device = Device(load_default_policy())
    device.contact(sim(TELEKOM))
    assert release(device.policy, device.memory, market="MI", reason="x", at=device.at) is None


def test_a_policy_change_releases_devices_locked_for_a_territory_no_longer_listed() -> None:
    device = Device(policy(delay(0)))
    assert device.contact(sim(CUBACEL)).status is LOCKED
    device.policy = policy(delay(0), without_cuba())
    assert device.state() == "released"
    outcome = device.contact(after=DAY)
    assert (outcome.reason, outcome.rule) == (Reason.RELEASED, "release:re-evaluated")


def test_memory_round_trips_through_json() -> None:
    device = Device(load_default_policy())
    device.contact(sim(TELEKOM, slot=1), sim(CUBACEL, slot=2))
    device.memory = place_hold(device.memory, reason="investigation", message="m", at=T0)
    assert DeviceMemory.from_json(device.memory.to_json()) == device.memory


def test_a_delivered_lock_stays_whatever_the_clock_says() -> None:
    # Issue 14: a server restarted with an earlier clock answered RELEASED to a phone whose
    # lock had been delivered, though no operator released it. Only a release lifts it.
    device = Device(load_default_policy())
    device.contact(sim(CUBACEL))
    assert device.contact(sim(CUBACEL), after=3 * DAY).status is LOCKED
    device.at -= 3 * DAY  # the clock runs back to the activation
    again = device.contact(sim(CUBACEL))
    assert (again.status, again.reason) == (LOCKED, Reason.EMBARGOED_TERRITORY)
    assert device.state() == "locked"
