"""Cases on the request signature and its digest (PROTOCOL.md sections 5, 5.1 and 6).

The kit signs each broken request over what it then sends, so a case breaks the one rule it
names: a component left out is left out of a signature that is otherwise correct.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from .context import Kit
from .drafts import CHECKIN, Draft, canonical, new_nonce
from .identities import new_claims
from .registry import Case, negative, positive
from .signer import Raw, digest, flip_signature
from .wire import Request

INVALID = (401, "signature_invalid")
STALE = (401, "signature_stale")
Change = Callable[[Kit, Draft], None]


def _param(name: str, value: int | str | Raw | None) -> Change:
    def change(kit: Kit, draft: Draft) -> None:
        draft.signature.set_param(name, value)

    return change


def _params_order(order: tuple[str, ...]) -> Change:
    def change(kit: Kit, draft: Draft) -> None:
        values = dict(draft.signature.params)
        draft.signature.params = [(name, values[name]) for name in order]

    return change


def _components(*components: str) -> Change:
    def change(kit: Kit, draft: Draft) -> None:
        draft.signature.components = list(components)

    return change


def _created(offset: int) -> Change:
    def change(kit: Kit, draft: Draft) -> None:
        kit.steady()
        draft.signature.set_param("created", kit.now() + offset)

    return change


def _signed_uri(uri: Callable[[Kit, Draft], str]) -> Change:
    def change(kit: Kit, draft: Draft) -> None:
        draft.signed_uri = uri(kit, draft)

    return change


def _after(edit: Callable[[Request], None]) -> Change:
    def change(kit: Kit, draft: Draft) -> None:
        draft.after.append(edit)

    return change


def _another_body(kit: Kit, draft: Draft) -> None:
    """After signing, the body becomes another valid body (same nonce, another firmware); the
    signed Content-Digest is the first body's."""
    other = dict(draft.body, device=dict(draft.body["device"], firmware="V99.9.9.9.TAMPERED"))
    body = canonical(other)

    def swap(request: Request) -> None:
        request.body = body

    draft.after.append(swap)


def _digest_field(make: Callable[[bytes], str]) -> Change:
    def change(kit: Kit, draft: Draft) -> None:
        draft.digest_header = make(canonical(draft.body))

    return change


def _query_not_signed(kit: Kit, draft: Draft) -> None:
    draft.signed_uri = kit.server.target_uri(draft.path)
    draft.path = draft.path + "?kit=1"


def _der_signature(request: Request) -> None:
    label, _, value = (request.header("Signature") or "").partition("=")
    raw = base64.b64decode(value.strip(":"))
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    request.set("Signature", f"{label}=:{base64.b64encode(der).decode()}:")


def _second_signature(request: Request) -> None:
    signature_input = request.header("Signature-Input") or ""
    signature = request.header("Signature") or ""
    _, _, inner = signature_input.partition("=")
    _, _, value = signature.partition("=")
    request.set("Signature-Input", f"{signature_input}, other={inner}")
    request.set("Signature", f"{signature}, other={value}")


def _absent_field(kit: Kit, draft: Draft) -> None:
    draft.extra_headers.append(("X-Kit-Covered", "present when signed"))
    draft.signature.components.append("x-kit-covered")
    draft.after.append(lambda request: request.set("X-Kit-Covered", None))


def _expired(kit: Kit, draft: Draft) -> None:
    kit.steady()
    draft.signature.set_param("expires", kit.now() - 600)


def _stale_and_tampered(kit: Kit, draft: Draft) -> None:
    kit.steady()
    draft.signature.set_param("created", kit.now() - 600)
    draft.after.append(flip_signature)


def _sha512_both(body: bytes) -> str:
    return f"{digest(body)}, {digest(body, 'sha-512')}"


def _sha512_wrong(body: bytes) -> str:
    return f"{digest(body)}, {digest(body + b'x', 'sha-512')}"


def _unknown_member(body: bytes) -> str:
    return f"{digest(body)}, sha-384=:{base64.b64encode(hashlib.sha384(body).digest()).decode()}:"


def _expires_and_tag(kit: Kit, draft: Draft) -> None:
    draft.signature.set_param("expires", kit.now() + 300)
    draft.signature.set_param("tag", "conformance-kit")


CASES: list[Case] = [
    positive(
        "SIG-01",
        "signature parameters in another order",
        "5.1",
        _params_order(("nonce", "alg", "created", "keyid")),
    ),
    positive(
        "SIG-02",
        "covered components in another order",
        "5.1",
        _components("content-digest", "@target-uri", "@method"),
    ),
    positive(
        "SIG-03",
        "a further covered component (content-type)",
        "5.1",
        _components("@method", "@target-uri", "content-digest", "content-type"),
    ),
    positive("SIG-04", "expires in the future and a tag", "5", _expires_and_tag),
    positive("SIG-05", "created 240 seconds in the past", "6", _created(-240)),
    positive("SIG-06", "created 240 seconds ahead", "6", _created(240)),
    positive(
        "DIG-01", "Content-Digest with sha-256 and sha-512", "5.1", _digest_field(_sha512_both)
    ),
    negative(
        "SIG-10",
        "no Signature-Input and no Signature",
        "6",
        *INVALID,
        lambda kit, d: setattr(d, "signed", False),
    ),
    negative(
        "SIG-11",
        "a Signature without Signature-Input",
        "6",
        *INVALID,
        _after(lambda r: r.set("Signature-Input", None)),
    ),
    negative(
        "SIG-12",
        "@method not covered",
        "5, 6",
        *INVALID,
        _components("@target-uri", "content-digest"),
    ),
    negative(
        "SIG-13",
        "@target-uri not covered",
        "5, 6",
        *INVALID,
        _components("@method", "content-digest"),
    ),
    negative(
        "SIG-14",
        "content-digest not covered",
        "5, 6",
        *INVALID,
        _components("@method", "@target-uri"),
    ),
    negative(
        "SIG-15",
        "a component covered twice",
        "5.1",
        *INVALID,
        _components("@method", "@target-uri", "content-digest", "@method"),
    ),
    negative(
        "SIG-16",
        "a covered header field the request does not carry",
        "5.1",
        *INVALID,
        _absent_field,
    ),
    negative(
        "SIG-17",
        "signed for /v1/checkin, sent to /v1/activation",
        "2, 5",
        *INVALID,
        _signed_uri(lambda kit, d: kit.server.target_uri(CHECKIN)),
    ),
    negative(
        "SIG-18",
        "signed for another host",
        "5",
        *INVALID,
        _signed_uri(lambda kit, d: f"{kit.server.scheme}://phone-sim.invalid{d.path}"),
    ),
    negative(
        "SIG-19",
        "signed for another scheme",
        "5",
        *INVALID,
        _signed_uri(
            lambda kit, d: kit.server.target_uri(d.path).replace(
                kit.server.scheme, "https" if kit.server.scheme == "http" else "http", 1
            )
        ),
    ),
    negative(
        "SIG-20",
        "a query in the request that the signature does not cover",
        "5",
        *INVALID,
        _query_not_signed,
    ),
    negative("SIG-21", "alg left out", "5, 6", *INVALID, _param("alg", None)),
    negative(
        "SIG-22",
        "alg names another algorithm (ed25519)",
        "5, 6",
        *INVALID,
        _param("alg", "ed25519"),
    ),
    negative(
        "SIG-23",
        "alg as an RFC 8941 Token, not a String",
        "5.1",
        *INVALID,
        _param("alg", Raw("ecdsa-p256-sha256")),
    ),
    negative("SIG-24", "keyid left out", "5, 6", *INVALID, _param("keyid", None)),
    negative(
        "SIG-25",
        "keyid names another device",
        "5, 6",
        *INVALID,
        lambda kit, d: d.signature.set_param("keyid", new_claims().serial),
    ),
    negative("SIG-26", "the nonce parameter left out", "5, 6", *INVALID, _param("nonce", None)),
    negative(
        "SIG-27",
        "a nonce parameter other than the body's",
        "6",
        *INVALID,
        lambda kit, d: d.signature.set_param("nonce", new_nonce()),
    ),
    negative("SIG-28", "created left out", "5, 6", *INVALID, _param("created", None)),
    negative(
        "SIG-29",
        "created as a String",
        "5.1",
        *INVALID,
        lambda kit, d: d.signature.set_param("created", str(kit.now())),
    ),
    negative("SIG-30", "an unknown parameter", "5", *INVALID, _param("kit", 1)),
    negative("SIG-31", "a second signature", "5", *INVALID, _after(_second_signature)),
    negative(
        "SIG-32",
        "a label other than device",
        "5, 11",
        *INVALID,
        lambda kit, d: setattr(d.signature, "label", "sig1"),
    ),
    negative(
        "SIG-34", "the signature DER-encoded, not r || s", "5", *INVALID, _after(_der_signature)
    ),
    negative(
        "SIG-36",
        "Signature-Input that is not a structured field",
        "6",
        *INVALID,
        _after(lambda r: r.set("Signature-Input", (r.header("Signature-Input") or "") + "((")),
    ),
    negative(
        "DIG-10",
        "the body changed after signing (Content-Digest does not match)",
        "5, 6",
        *INVALID,
        _another_body,
    ),
    negative(
        "DIG-12",
        "Content-Digest with sha-512 alone",
        "5.1",
        *INVALID,
        _digest_field(lambda body: digest(body, "sha-512")),
    ),
    negative(
        "DIG-13",
        "a sha-512 member that does not match, beside a right sha-256",
        "5.1",
        *INVALID,
        _digest_field(_sha512_wrong),
    ),
    negative(
        "DIG-14",
        "a member of another algorithm beside sha-256",
        "5.1",
        *INVALID,
        _digest_field(_unknown_member),
    ),
    negative(
        "DIG-15",
        "a sha-256 digest of the wrong length",
        "5.1",
        *INVALID,
        _digest_field(lambda body: "sha-256=:AAAA:"),
    ),
    negative("STL-01", "created 600 seconds in the past", "6", *STALE, _created(-600)),
    negative("STL-02", "created 600 seconds ahead", "6", *STALE, _created(600)),
    negative(
        "STL-03",
        "expires 600 seconds in the past",
        "5, 6",
        *STALE,
        _expired,
    ),
    negative(
        "ORD-01",
        "stale and a bit flipped in the signature",
        "6",
        *INVALID,
        _stale_and_tampered,
        note="two rules: the signature is checked before its time",
    ),
]
