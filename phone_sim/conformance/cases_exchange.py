"""Cases on whole exchanges: verdicts bound to their requests, sequences, check-ins, replays and
the time (PROTOCOL.md sections 2.1, 4.1, 6 to 8)."""

from __future__ import annotations

from collections.abc import Callable

from . import answers
from .context import Kit
from .drafts import ACTIVATION, CHECKIN, TIME, Draft, canonical, new_nonce
from .errors import CaseFailed
from .registry import Case, Group, Kind
from .signer import flip_signature

REPLAYED = (409, "nonce_replayed")
MALFORMED = (400, "malformed_request")


def _activation(kit: Kit) -> str:
    draft = kit.draft(fresh=True)
    verdict = kit.activate(draft, "activation of a new device")
    return (
        f"signed verdict for {verdict.device_serial}, nonce bound, sequence {verdict.sequence}, "
        f"{verdict.status.value} ({verdict.reason})"
    )


def _checkin(kit: Kit) -> str:
    identity = kit.device(fresh=True)
    kit.activate(kit.draft(identity), "activation")
    verdict = kit.activate(kit.draft(identity, path=CHECKIN), "check-in")
    return f"check-in answered: sequence {verdict.sequence}, {verdict.status.value}"


def _sequence(kit: Kit) -> str:
    identity = kit.device(fresh=True)
    seen = []
    for label, path in (
        ("activation", ACTIVATION),
        ("check-in", CHECKIN),
        ("check-in", CHECKIN),
        ("activation again (a factory reset)", ACTIVATION),
    ):
        seen.append(kit.activate(kit.draft(identity, path=path), label).sequence)
    return f"sequences {seen}"  # kit.accepted refused any that did not increase


def _never_activated(kit: Kit) -> str:
    verdict = kit.activate(kit.draft(fresh=True, path=CHECKIN), "check-in of a new device")
    return f"answered as an activation: sequence {verdict.sequence}, {verdict.status.value}"


def _refusal_keeps_nonce(kit: Kit) -> str:
    draft = kit.draft()
    broken = draft.copy()
    broken.after.append(flip_signature)
    kit.refused(
        kit.send(broken, "a request whose signature does not verify"), 401, "signature_invalid"
    )
    verdict = kit.activate(draft, "a valid request with the refused request's nonce")
    return f"the nonce was still fresh: sequence {verdict.sequence}"


def _two_devices(kit: Kit) -> str:
    first, second = kit.draft(fresh=True), kit.draft(fresh=True)
    one = kit.send(first, "device A")
    two = kit.send(second, "device B")
    a, b = kit.accepted(one, first), kit.accepted(two, second)
    return f"each verdict names its own device and nonce ({a.device_serial}, {b.device_serial})"


def _replay(resend: Callable[[Kit, Draft], str]) -> Callable[[Kit], str]:
    """The first request is accepted; ``resend`` sends its nonce again, which is refused."""

    def run(kit: Kit) -> str:
        first = kit.draft()
        try:
            kit.activate(first, "the first request")
        except CaseFailed as exc:
            raise CaseFailed(f"the first request was not accepted: {exc}") from None
        return resend(kit, first)

    return run


def _same_bytes(kit: Kit, first: Draft) -> str:
    previous = kit.exchanges[-1].request
    return kit.refused(kit.send(previous, "the same request again"), *REPLAYED)


def _created(draft: Draft) -> int:
    created = draft.signature.param("created")
    assert isinstance(created, int)
    return created


def _resigned(kit: Kit, first: Draft) -> str:
    # Another created (a second earlier: still fresh), so this is a new signature, not the
    # first one again, whatever speed the server's clock runs at.
    again = first.copy()
    again.signature.set_param("created", _created(first) - 1)
    return kit.refused(kit.send(again, "the same nonce, signed again"), *REPLAYED)


def _as_checkin(kit: Kit, first: Draft) -> str:
    again = first.copy()
    again.path = CHECKIN
    return kit.refused(kit.send(again, "the activation's nonce in a check-in"), *REPLAYED)


def _other_device(kit: Kit, first: Draft) -> str:
    other = kit.draft(fresh=True).renonce(first.nonce)
    other.signature.set_param("created", _created(first))
    return kit.refused(kit.send(other, "another device with the same nonce"), *REPLAYED)


def _time(kit: Kit) -> str:
    kit.steady()
    exchange, nonce = kit.ask_time()
    answer = answers.time_answer(exchange, nonce=nonce, key=kit.vendor_key, key_id=kit.key_id)
    if abs(answer.now - kit.now()) > answers.SKEW:
        raise CaseFailed(f"the signed time {answer.now} is not the time the server judges by")
    return f"signed, nonce bound: now {answer.now} ({answer.mode.value}, speed {answer.speed})"


def _time_twice(kit: Kit) -> str:
    times = []
    for label in ("first question", "second question"):
        exchange, nonce = kit.ask_time(label=label)
        times.append(
            answers.time_answer(exchange, nonce=nonce, key=kit.vendor_key, key_id=kit.key_id).now
        )
    if times[1] < times[0]:
        raise CaseFailed(f"time ran back: {times[0]} then {times[1]}")
    return f"each answer bound to its own nonce; {times[0]} then {times[1]}"


def _time_default(kit: Kit) -> str:
    nonce = new_nonce()
    exchange = kit.send(kit.plain(TIME, canonical({"nonce": nonce})), "protocol left out")
    answers.time_answer(exchange, nonce=nonce, key=kit.vendor_key, key_id=kit.key_id)
    return "answered"


def _time_negative(body: Callable[[str], bytes]) -> Callable[[Kit], str]:
    def run(kit: Kit) -> str:
        exchange, nonce = kit.ask_time(label="the unbroken twin")
        try:
            answers.time_answer(exchange, nonce=nonce, key=kit.vendor_key, key_id=kit.key_id)
        except CaseFailed as exc:
            raise CaseFailed(f"the unbroken twin was not answered: {exc}") from None
        broken = kit.plain(TIME, body(new_nonce()))
        return kit.refused(kit.send(broken, "a broken time request"), *MALFORMED)

    return run


def _case(
    case_id: str, title: str, section: str, kind: Kind, expect: str, run: Callable[[Kit], str]
) -> Case:
    return Case(case_id, title, section, Group.PROTOCOL, kind, expect, run)


P, N = Kind.POSITIVE, Kind.NEGATIVE
VERDICT = "a valid verdict"
CASES: list[Case] = [
    _case(
        "ACT-01",
        "an activation is answered with a signed verdict bound to its request",
        "4, 7, 8",
        P,
        VERDICT,
        _activation,
    ),
    _case(
        "ACT-02", "a check-in is answered with a signed verdict", "4.1, 7, 8", P, VERDICT, _checkin
    ),
    _case(
        "ACT-03",
        "a device's sequence strictly increases across activations and check-ins",
        "4.1, 7",
        P,
        "increasing sequences",
        _sequence,
    ),
    _case(
        "ACT-04",
        "a check-in from a device never activated is answered",
        "4.1",
        P,
        VERDICT,
        _never_activated,
    ),
    _case(
        "ACT-05",
        "a refused request does not use up its nonce",
        "6",
        P,
        VERDICT,
        _refusal_keeps_nonce,
    ),
    _case("ACT-06", "two devices' verdicts are each their own", "7, 8", P, VERDICT, _two_devices),
    _case(
        "RPL-01", "the same request sent again", "6", N, "409 nonce_replayed", _replay(_same_bytes)
    ),
    _case(
        "RPL-02", "the same nonce, signed again", "6", N, "409 nonce_replayed", _replay(_resigned)
    ),
    _case(
        "RPL-03",
        "an activation's nonce used for a check-in",
        "4.1, 6",
        N,
        "409 nonce_replayed",
        _replay(_as_checkin),
    ),
    _case(
        "RPL-04",
        "a nonce another device used",
        "6",
        N,
        "409 nonce_replayed",
        _replay(_other_device),
    ),
    _case(
        "TIM-01",
        "the time is answered, signed and bound to the nonce",
        "2.1",
        P,
        "a signed time",
        _time,
    ),
    _case(
        "TIM-02",
        "each time answer is its own request's, and time does not run back",
        "2.1",
        P,
        "signed times",
        _time_twice,
    ),
    _case(
        "TIM-03",
        "a time request without protocol (default 2)",
        "1, 2.1",
        P,
        "a signed time",
        _time_default,
    ),
    _case(
        "TIM-10",
        "a time request with a 15-character nonce",
        "2.1",
        N,
        "400 malformed_request",
        _time_negative(lambda n: canonical({"nonce": n[:15], "protocol": 2})),
    ),
    _case(
        "TIM-11",
        "a time request with an unknown field",
        "2.1",
        N,
        "400 malformed_request",
        _time_negative(lambda n: canonical({"nonce": n, "protocol": 2, "tz": "UTC"})),
    ),
    _case(
        "TIM-12",
        "a time request that is not canonical",
        "1, 2.1",
        N,
        "400 malformed_request",
        _time_negative(lambda n: canonical({"nonce": n, "protocol": 2}) + b" "),
    ),
    _case(
        "TIM-13",
        "a time request of protocol 1",
        "2.1",
        N,
        "400 malformed_request",
        _time_negative(lambda n: canonical({"nonce": n, "protocol": 1})),
    ),
]
