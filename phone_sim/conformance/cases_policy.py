"""Cases that hold only under a declared policy or feature (docs/CONFORMANCE.md sections 3, 4).

The policy cases check the story's policy (the packaged default of our server); those that
wait for a lock to fall due move the server's clock through the admin API, so they also need
``admin-clock``. The optional cases check the admin API's effects a phone can see: the
clock, an uploaded policy, an operator's hold and release.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from .context import Kit
from .drafts import CHECKIN, GERMAN, Draft, sim
from .errors import CaseFailed
from .features import Feature, PolicyName
from .identities import Identity
from .registry import Case, Group, Kind

DAY = 86400
#: the story: a flagged device is locked at its first check-in three days after activation
DELAY = 3 * DAY
CUBACEL = ("368", "01")
VOLNA = ("250", "60")  # Crimea
MTS = ("250", "01")  # Russia
CLOCK = frozenset({Feature.ADMIN_CLOCK})


def _advance(kit: Kit, seconds: int) -> None:
    """Move the server's clock (docs/OPERATOR.md 3.2) and take its new time."""
    exchange = kit.admin("POST", "/admin/clock/advance", {"seconds": seconds}, "advance the clock")
    if exchange.answer.status != 200:
        raise CaseFailed(f"the server did not move its clock: {exchange.answer.describe()}")
    kit.sync_time()


def _contact(
    kit: Kit, identity: Identity, home: tuple[str, str], path: str, label: str, **sim_options: Any
) -> Any:
    draft: Draft = kit.draft(identity, path=path, sims=[sim(home, **sim_options)])
    return kit.activate(draft, label)


def _expect(verdict: Any, status: str, reason: str, when: str) -> None:
    if (verdict.status.value, verdict.reason) != (status, reason):
        raise CaseFailed(
            f"{when}: expected {status} ({reason}), got {verdict.status.value} ({verdict.reason})"
        )


def _german_activates(kit: Kit) -> str:
    verdict = _contact(kit, kit.device(fresh=True), GERMAN, "/v1/activation", "German SIM")
    _expect(verdict, "activated", "ACTIVATION_OK", "at activation")
    return "activated (ACTIVATION_OK)"


def _cuban_activates_first(kit: Kit) -> str:
    verdict = _contact(kit, kit.device(fresh=True), CUBACEL, "/v1/activation", "Cubacel SIM")
    _expect(verdict, "activated", "ACTIVATION_OK", "at activation")
    after = verdict.next_checkin_after
    if after is None or after > DELAY:
        raise CaseFailed(
            f"next_checkin_after {after}: the phone must be back before the lock falls due"
        )
    return f"activated (ACTIVATION_OK), asked back after {after} s"


def _cuban_locked_after_three_days(kit: Kit) -> str:
    identity = kit.device(fresh=True)
    _contact(kit, identity, CUBACEL, "/v1/activation", "activation with a Cubacel SIM")
    _advance(kit, DELAY - 3600)
    early = _contact(kit, identity, CUBACEL, CHECKIN, "check-in after 2 days 23 hours")
    _expect(early, "activated", "ACTIVATION_OK", "before the 3 days")
    _advance(kit, 3600)
    late = _contact(kit, identity, CUBACEL, CHECKIN, "check-in after 3 days")
    _expect(late, "locked", "EMBARGOED_TERRITORY", "3 days after activation")
    return "activated until the third day, then locked (EMBARGOED_TERRITORY)"


def _territory_sticks(kit: Kit) -> str:
    identity = kit.device(fresh=True)
    _contact(kit, identity, CUBACEL, "/v1/activation", "activation with a Cubacel SIM")
    _contact(kit, identity, GERMAN, CHECKIN, "check-in with a German SIM instead")
    _advance(kit, DELAY)
    late = _contact(kit, identity, GERMAN, CHECKIN, "check-in with the German SIM, 3 days on")
    _expect(late, "locked", "EMBARGOED_TERRITORY", "with a German SIM after a Cuban activation")
    again = _contact(kit, identity, GERMAN, "/v1/activation", "re-activation (factory reset)")
    _expect(again, "locked", "EMBARGOED_TERRITORY", "re-activated with a German SIM")
    return "locked with a German SIM and after a re-activation: the activation decides"


def _tourist(kit: Kit) -> str:
    identity = kit.device(fresh=True)
    _contact(
        kit, identity, GERMAN, "/v1/activation", "German SIM roaming on Cubacel", serving=CUBACEL
    )
    _advance(kit, DELAY)
    late = _contact(
        kit, identity, GERMAN, CHECKIN, "check-in 3 days on, still roaming", serving=CUBACEL
    )
    _expect(late, "activated", "ACTIVATION_OK", "a tourist 3 days on")
    return "never flagged: the home operator decides, not the network"


def _crimea(kit: Kit) -> str:
    volna, mts = kit.device(fresh=True), kit.device(fresh=True)
    _contact(kit, volna, VOLNA, "/v1/activation", "activation with Volna (Crimea, 250-60)")
    _contact(kit, mts, MTS, "/v1/activation", "activation with MTS Russia (250-01)")
    _advance(kit, DELAY)
    _expect(
        _contact(kit, volna, VOLNA, CHECKIN, "Volna 3 days on"),
        "locked",
        "EMBARGOED_TERRITORY",
        "Volna 3 days on",
    )
    _expect(
        _contact(kit, mts, MTS, CHECKIN, "MTS 3 days on"),
        "activated",
        "ACTIVATION_OK",
        "MTS 3 days on",
    )
    return "Volna locked, MTS Russia activated: operators, not the MCC alone"


def _clock(kit: Kit) -> str:
    before = kit.sync_time()
    _advance(kit, 3600)
    after = kit.sync_time()
    if before is None or after is None or after.now < before.now + 3600:
        raise CaseFailed(f"the signed time did not move on by an hour ({before}, {after})")
    return f"signed time {before.now} -> {after.now}"


_POLICY = """version = "{version}"
lock_message = "Locked by the conformance kit's policy."

[enforcement]
delay_days = 0

[[territories]]
name = "Cuba"
networks = ["368"]
"""


def _uploaded_policy(kit: Kit) -> str:
    shown = kit.admin("GET", "/admin/policy", label="the policy in force")
    try:
        previous = json.loads(shown.answer.body)["text"]
    except (ValueError, KeyError, TypeError):
        raise CaseFailed(f"GET /admin/policy: {shown.answer.describe()}") from None
    version = f"conformance-kit-{secrets.token_hex(4)}"
    put = kit.admin("PUT", "/admin/policy", _POLICY.format(version=version), "upload a policy")
    if put.answer.status != 200:
        raise CaseFailed(f"PUT /admin/policy: {put.answer.describe()}")
    try:
        verdict = _contact(kit, kit.device(fresh=True), CUBACEL, "/v1/activation", "Cubacel SIM")
    finally:
        kit.admin("PUT", "/admin/policy", previous, "put the policy back")
    _expect(verdict, "locked", "EMBARGOED_TERRITORY", "under the uploaded policy")
    if verdict.policy_version != version:
        raise CaseFailed(f"the verdict names policy {verdict.policy_version!r}, not {version!r}")
    return f"locked at once under {version}, then the policy was put back"


def _hold_and_release(kit: Kit) -> str:
    identity = kit.device(fresh=True)
    _contact(kit, identity, GERMAN, "/v1/activation", "activation")
    ident = quote(identity.serial, safe="")
    done = kit.admin(
        "POST",
        f"/admin/devices/{ident}/lock",
        {"reason": "conformance", "message": None},
        "the operator's hold",
    )
    if done.answer.status != 200:
        raise CaseFailed(f"lock: {done.answer.describe()}")
    _expect(
        _contact(kit, identity, GERMAN, CHECKIN, "check-in"),
        "locked",
        "INVESTIGATION_HOLD",
        "after the hold",
    )
    done = kit.admin(
        "POST",
        f"/admin/devices/{ident}/release",
        {"reason": "conformance"},
        "the operator's release",
    )
    if done.answer.status != 200:
        raise CaseFailed(f"release: {done.answer.describe()}")
    _expect(
        _contact(kit, identity, GERMAN, CHECKIN, "check-in"),
        "activated",
        "RELEASED",
        "after the release",
    )
    return "locked (INVESTIGATION_HOLD) at the next check-in, then activated (RELEASED)"


def _policy(case_id: str, title: str, run: Callable[[Kit], str], *, clock: bool = False) -> Case:
    return Case(
        case_id,
        title,
        "4",
        Group.POLICY,
        Kind.POSITIVE,
        "the story's decision",
        run,
        needs=CLOCK if clock else frozenset(),
        policy=PolicyName.STORY,
        doc="CONFORMANCE.md",
    )


def _optional(case_id: str, title: str, feature: Feature, run: Callable[[Kit], str]) -> Case:
    return Case(
        case_id,
        title,
        "3.2",
        Group.OPTIONAL,
        Kind.POSITIVE,
        "what the operator did reaches the phone",
        run,
        needs=frozenset({feature}),
        doc="OPERATOR.md",
    )


CASES: list[Case] = [
    _policy("POL-01", "a German SIM activates", _german_activates),
    _policy(
        "POL-02",
        "a Cubacel SIM activates at first, asked back before the lock is due",
        _cuban_activates_first,
    ),
    _policy(
        "POL-03",
        "a Cubacel activation is locked at the first check-in 3 days on, not before",
        _cuban_locked_after_three_days,
        clock=True,
    ),
    _policy(
        "POL-04",
        "the activation territory sticks: a German SIM later, a re-activation",
        _territory_sticks,
        clock=True,
    ),
    _policy("POL-05", "a German SIM roaming on Cubacel is never flagged", _tourist, clock=True),
    _policy(
        "POL-06", "Crimea's operators (Volna) are embargoed, MTS Russia is not", _crimea, clock=True
    ),
    _optional("OPT-01", "moving the clock moves the signed time", Feature.ADMIN_CLOCK, _clock),
    _optional(
        "OPT-02",
        "an uploaded policy decides the next contact",
        Feature.ADMIN_POLICY,
        _uploaded_policy,
    ),
    _optional(
        "OPT-03",
        "an operator's hold and release reach the device at its check-ins",
        Feature.ADMIN_DEVICES,
        _hold_and_release,
    ),
]
