"""Cases on the body and the HTTP framing (PROTOCOL.md sections 1, 2, 4 and 9).

Each negative case's broken request is signed over the bytes it sends, so its only fault is
the one named; where the rule is checked before the schema (size, nesting) the broken body
cannot also be a valid ``ActivationRequest``, and section 6's order says which error wins.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .context import Kit
from .drafts import Draft, canonical, new_nonce, sim
from .errors import CaseFailed
from .registry import Case, Group, Kind, negative, positive

MALFORMED = (400, "malformed_request")
#: the note of a case whose body cannot break the schema and still match the certificate
CLAIMS_TOO = "also differs from the certified claims, checked later"


def _body(edit: Callable[[dict[str, Any]], None]) -> Callable[[Kit, Draft], None]:
    """A change to the body as a JSON value (still canonical when sent)."""

    def change(kit: Kit, draft: Draft) -> None:
        edit(draft.body)

    return change


def _raw(edit: Callable[[bytes], bytes]) -> Callable[[Kit, Draft], None]:
    """A change to the canonical bytes (the signature then covers the changed bytes)."""

    def change(kit: Kit, draft: Draft) -> None:
        draft.raw = edit(canonical(draft.body))

    return change


def _device(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(body: dict[str, Any]) -> None:
        body["device"][key] = value

    return edit


def _sim(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(body: dict[str, Any]) -> None:
        body["sims"][0][key] = value

    return edit


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(body: dict[str, Any]) -> None:
        body[key] = value

    return edit


def _drop(*path: str) -> Callable[[dict[str, Any]], None]:
    def edit(body: dict[str, Any]) -> None:
        target = body
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return edit


def _nonce(value: str) -> Callable[[Kit, Draft], None]:
    def change(kit: Kit, draft: Draft) -> None:
        draft.renonce(value)

    return change


def _oversized(body: dict[str, Any]) -> None:
    body["device"]["firmware"] = "V" * 17000


def _nested(depth: int) -> Callable[[bytes], bytes]:
    def edit(raw: bytes) -> bytes:
        # "sims" is the last key of a canonical request: its value runs to the final brace.
        head, _, _ = raw.partition(b'"sims":')
        return head + b'"sims":' + b"[" * depth + b"]" * depth + b"}"

    return edit


def _duplicate(raw: bytes) -> bytes:
    data = json.loads(raw)
    return raw.replace(b'"nonce":', f'"nonce":"{data["nonce"]}","nonce":'.encode(), 1)


def _reordered(raw: bytes) -> bytes:
    data = json.loads(raw)
    return json.dumps(dict(reversed(list(data.items()))), separators=(",", ":")).encode()


def _pretty(raw: bytes) -> bytes:
    return json.dumps(json.loads(raw), sort_keys=True, indent=2, ensure_ascii=False).encode()


def _escaped(raw: bytes) -> bytes:
    return raw.replace(b'"firmware":"V', b'"firmware":"\\u0056', 1)


def _defaults_left_out(body: dict[str, Any]) -> None:
    del body["protocol"], body["device"]["bootloader_unlocked"]
    for key in ("serving_mcc", "serving_mnc", "roaming"):
        del body["sims"][0][key]


def _wrong_check_digit(body: dict[str, Any]) -> None:
    imei = body["device"]["imeis"][0]
    body["device"]["imeis"][0] = imei[:14] + str((int(imei[14]) + 1) % 10)


def _four_certificates(body: dict[str, Any]) -> None:
    body["certificates"] = body["certificates"] + body["certificates"]


def _long_certificate(body: dict[str, Any]) -> None:
    body["certificates"][1] = body["certificates"][1] + "A" * (4097 - len(body["certificates"][1]))


def _health(kit: Kit) -> str:
    request = kit.plain("/v1/health", b"", "GET")
    request.set("Content-Type", None)
    answer = kit.send(request, "GET /v1/health").answer
    try:
        data = json.loads(answer.body)
    except ValueError:
        data = None
    if answer.status != 200 or not isinstance(data, dict) or data.get("status") != "ok":
        raise CaseFailed(f"expected 200 with status ok, got {answer.describe()}")
    return "200, status ok"


def _get_activation(kit: Kit) -> str:
    first = kit.draft()
    kit.activate(first, "the unbroken twin")
    request = kit.plain("/v1/activation", b"", "GET")
    exchange = kit.send(request, "GET /v1/activation")
    reason = kit.refused(exchange, 405, "method_not_allowed")
    allow = exchange.answer.header("Allow") or ""
    if "POST" not in [m.strip() for m in allow.split(",")]:
        raise CaseFailed(f"the 405 must name POST in Allow, not {allow!r}")
    return f"{reason}; Allow: {allow}"


def _unknown_path(kit: Kit) -> str:
    first = kit.draft()
    kit.activate(first, "the unbroken twin")
    draft = kit.draft()
    draft.path = "/v1/no-such-endpoint"
    return kit.refused(kit.send(draft, "POST /v1/no-such-endpoint"), 404, "not_found")


def _length_not_a_number(kit: Kit) -> str:
    first = kit.draft()
    kit.activate(first, "the unbroken twin")
    broken = first.copy().renonce()
    broken.signature.set_param("created", kit.now())
    request = kit.build(broken)
    request.length = False
    request.headers.append(("Content-Length", f"{len(request.body)}x"))
    return kit.refused(kit.send(request, "Content-Length not a number"), *MALFORMED)


CASES: list[Case] = [
    Case(
        "HTTP-01",
        "GET /v1/health answers 200 with status ok",
        "2",
        Group.PROTOCOL,
        Kind.POSITIVE,
        "200 JSON",
        _health,
    ),
    Case(
        "HTTP-02",
        "GET on /v1/activation",
        "9",
        Group.PROTOCOL,
        Kind.NEGATIVE,
        "405 method_not_allowed, Allow: POST",
        _get_activation,
    ),
    Case(
        "HTTP-03",
        "a POST to a path that is no endpoint",
        "9",
        Group.PROTOCOL,
        Kind.NEGATIVE,
        "404 not_found",
        _unknown_path,
    ),
    Case(
        "HTTP-04",
        "a Content-Length that is not a number",
        "6, 9",
        Group.PROTOCOL,
        Kind.NEGATIVE,
        "400 malformed_request",
        _length_not_a_number,
    ),
    positive(
        "BOD-01", "a phone without SIMs (sims is an empty array)", "4", _body(_set("sims", []))
    ),
    positive(
        "BOD-02",
        "two SIMs, the second roaming",
        "4",
        _body(_set("sims", [sim(slot=1), sim(("368", "01"), serving=("262", "02"), slot=2)])),
    ),
    positive("BOD-03", "the fields with defaults left out", "1, 4", _body(_defaults_left_out)),
    positive(
        "BOD-04",
        "no serving network (serving_mcc and serving_mnc null)",
        "4",
        _body(lambda b: b["sims"][0].update(serving_mcc=None, serving_mnc=None)),
    ),
    positive(
        "BOD-05",
        "what is not certified may be anything valid (firmware, unlocked bootloader)",
        "6",
        _body(
            lambda b: b["device"].update(firmware="unofficial build é", bootloader_unlocked=True)
        ),
    ),
    negative(
        "BOD-10",
        "a body larger than 16384 bytes",
        "1, 6",
        413,
        "payload_too_large",
        _body(_oversized),
        note="size comes first: the padding also breaks the schema",
    ),
    negative(
        "BOD-12",
        "arrays nested 6000 deep (a recursive parser's limit)",
        "6, 9",
        *MALFORMED,
        _raw(_nested(6000)),
        note="nesting comes before the schema",
    ),
    negative("BOD-13", "a duplicate key", "1", *MALFORMED, _raw(_duplicate)),
    negative("BOD-14", "keys out of order", "1", *MALFORMED, _raw(_reordered)),
    negative("BOD-15", "insignificant whitespace (pretty-printed)", "1", *MALFORMED, _raw(_pretty)),
    negative("BOD-16", "a needless \\u escape", "1", *MALFORMED, _raw(_escaped)),
    negative("BOD-17", "a trailing newline", "1", *MALFORMED, _raw(lambda r: r + b"\n")),
    negative("BOD-18", "a byte order mark", "1", *MALFORMED, _raw(lambda r: b"\xef\xbb\xbf" + r)),
    negative("BOD-19", "UTF-16", "1", *MALFORMED, _raw(lambda r: r.decode().encode("utf-16-le"))),
    negative(
        "BOD-20",
        "bytes that are not UTF-8",
        "1",
        *MALFORMED,
        _raw(lambda r: r.replace(b'"firmware":"V', b'"firmware":"\xff', 1)),
    ),
    negative(
        "BOD-21", "bytes that are not JSON", "1", *MALFORMED, _raw(lambda r: r[: len(r) // 2])
    ),
    negative(
        "BOD-22", "a JSON array, not an object", "4, 9", *MALFORMED, _raw(lambda r: b"[" + r + b"]")
    ),
    negative(
        "BOD-25",
        "a lone surrogate",
        "11",
        *MALFORMED,
        _raw(lambda r: r.replace(b'"firmware":"V', b'"firmware":"\\ud800V', 1)),
    ),
    negative("BOD-26", "an unknown field", "1", *MALFORMED, _body(_set("extra", 1))),
    negative(
        "BOD-27", "an unknown field in device", "1, 4", *MALFORMED, _body(_device("colour", "blue"))
    ),
    negative(
        "BOD-28", "an unknown field in a SIM", "1, 4", *MALFORMED, _body(_sim("imsi", "262011"))
    ),
    negative(
        "BOD-29",
        'a string for an integer (protocol "1")',
        "1",
        *MALFORMED,
        _body(_set("protocol", "1")),
    ),
    negative(
        "BOD-30",
        "an integer for a boolean (bootloader_unlocked 0)",
        "1",
        *MALFORMED,
        _body(_device("bootloader_unlocked", 0)),
    ),
    negative(
        "BOD-31",
        "a number with a fraction for an integer (slot 1.0)",
        "1",
        *MALFORMED,
        _raw(lambda r: r.replace(b'"slot":1', b'"slot":1.0', 1)),
    ),
    negative(
        "BOD-32",
        "sims left out (required: it has no default)",
        "1, 4",
        *MALFORMED,
        _body(_drop("sims")),
    ),
    negative(
        "BOD-33", "device.firmware left out", "1, 4", *MALFORMED, _body(_drop("device", "firmware"))
    ),
    negative(
        "BOD-34", "protocol 2 in an activation request", "4", *MALFORMED, _body(_set("protocol", 2))
    ),
    negative(
        "BOD-36", "one slot twice", "4", *MALFORMED, _body(_set("sims", [sim(slot=1), sim(slot=1)]))
    ),
    negative(
        "BOD-37",
        "an IMEI whose check digit is wrong",
        "4",
        *MALFORMED,
        _body(_wrong_check_digit),
        note=CLAIMS_TOO,
    ),
    negative(
        "BOD-38",
        "a serial with a character outside A-Z a-z 0-9",
        "4",
        *MALFORMED,
        _body(_device("serial", "CK-0000001")),
        note=CLAIMS_TOO,
    ),
    negative(
        "BOD-39",
        "a market in lower case",
        "4",
        *MALFORMED,
        _body(_device("market", "mi")),
        note=CLAIMS_TOO,
    ),
    negative(
        "BOD-40",
        "a model of 65 characters",
        "4",
        *MALFORMED,
        _body(_device("model", "M" * 65)),
        note=CLAIMS_TOO,
    ),
    negative(
        "BOD-41",
        "an ICCID that does not start with 89",
        "4",
        *MALFORMED,
        _body(_sim("iccid", "1" * 19)),
    ),
    negative(
        "BOD-42", "a home MCC outside 200-799", "4", *MALFORMED, _body(_sim("home_mcc", "868"))
    ),
    negative("BOD-43", "a home MNC of one digit", "4", *MALFORMED, _body(_sim("home_mnc", "1"))),
    negative(
        "BOD-44",
        "a serving MCC of another syntax than an MCC",
        "4",
        *MALFORMED,
        _body(_sim("serving_mcc", "26a")),
    ),
    negative(
        "BOD-45",
        "a serving MNC of four digits",
        "4",
        *MALFORMED,
        _body(_sim("serving_mnc", "0101")),
    ),
    negative(
        "BOD-46",
        "serving_mcc without serving_mnc",
        "4",
        *MALFORMED,
        _body(_sim("serving_mnc", None)),
    ),
    negative("BOD-47", "a nonce of 15 characters", "4", *MALFORMED, _nonce(new_nonce()[:15])),
    negative(
        "BOD-48",
        "a nonce with a character outside A-Z a-z 0-9 _ -",
        "4",
        *MALFORMED,
        _nonce(new_nonce()[:20] + ".abc"),
    ),
    negative("BOD-49", "four certificates", "4", *MALFORMED, _body(_four_certificates)),
    negative(
        "BOD-50", "a certificate of 4097 characters", "4", *MALFORMED, _body(_long_certificate)
    ),
]
