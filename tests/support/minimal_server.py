"""A minimal activation server written from docs/PROTOCOL.md alone, for the conformance kit's tests.

It imports nothing from ``phone_sim`` or ``server_stub`` (a test checks): the standard library,
``cryptography`` and ``http-message-signatures`` (with ``http_sf``, its RFC 8941 parser). It
activates every device it can authenticate, has no policy and no admin API, keeps its state in
memory, serves on loopback with ``http.server``, and its clock is ``now``.

Each check names the rule it enforces (``"body:size"``, ``"chain:root"``...), in the order of
section 6; ``tests/support/broken_server.py`` makes servers with one of them broken, for the
kit's own tests. The methods marked "hook" are where such a server differs.

It is one file of about 650 lines on purpose: it stands for what a third party writes from the
spec, read top to bottom in section order, and splitting it would make it ours in shape.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_sf
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from http_message_signatures import HTTPMessageVerifier, HTTPSignatureKeyResolver, algorithms

MAX_BODY, MAX_DEPTH, SKEW, DAY = 16384, 32, 300, 86400
CLAIMS_OID = x509.ObjectIdentifier("1.3.6.1.4.1.57264.7.1")
CLIENT_AUTH, ANY_PURPOSE = (
    x509.ObjectIdentifier("1.3.6.1.5.5.7.3.2"),
    x509.ObjectIdentifier("2.5.29.37.0"),
)
#: extensions a verifier knows (SKI, KU, SAN, BC, AKI, EKU) besides the claims
KNOWN = {"2.5.29.14", "2.5.29.15", "2.5.29.17", "2.5.29.19", "2.5.29.35", "2.5.29.37"}
ROUTES = {"/v1/activation": "POST", "/v1/checkin": "POST", "/v1/time": "POST", "/v1/health": "GET"}
COMPONENTS = ("@method", "@target-uri", "content-digest")
PARAMS = {"created", "expires", "keyid", "alg", "nonce", "tag"}
VERDICT_COMPONENTS, JSON = '("@status" "content-type" "content-digest")', "application/json"
Answer = tuple[int, dict[str, str], bytes]


class Refused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code


def luhn_ok(imei: Any) -> bool:
    if not (isinstance(imei, str) and len(imei) == 15 and imei.isascii() and imei.isdigit()):
        return False
    return (
        sum(int(d) if i % 2 == 0 else sum(divmod(2 * int(d), 10)) for i, d in enumerate(imei)) % 10
        == 0
    )


def match(pattern: str) -> Callable[[Any], bool]:
    return lambda v: re.fullmatch(pattern, v) is not None


def length(low: int, high: int) -> Callable[[Any], bool]:
    return lambda v: low <= len(v) <= high


# Schemas (sections 2.1 and 4): field -> (types, [(check, test)], default); REQUIRED: no default.
REQUIRED, MCC, MNC = object(), match("[2-7][0-9]{2}"), match("[0-9]{2,3}")
NONCE = [("length", length(16, 64)), ("charset", match("[A-Za-z0-9_-]*"))]
DEVICE = {
    "serial": (str, [("value", match("[A-Za-z0-9]{4,32}"))], REQUIRED),
    "imeis": (list, [("value", lambda v: 1 <= len(v) <= 2 and all(map(luhn_ok, v)))], REQUIRED),
    "model": (str, [("value", length(1, 64))], REQUIRED),
    "market": (str, [("value", match("[A-Z]{2}"))], REQUIRED),
    "firmware": (str, [("value", length(1, 64))], REQUIRED),
    "bootloader_unlocked": (bool, [], False),
}
SIM = {
    "slot": (int, [("value", lambda v: v in (1, 2))], REQUIRED),
    "iccid": (str, [("value", match("89[0-9]{16,18}"))], REQUIRED),
    "home_mcc": (str, [("value", MCC)], REQUIRED),
    "home_mnc": (str, [("value", MNC)], REQUIRED),
    "serving_mcc": ((str, type(None)), [("value", lambda v: v is None or MCC(v))], None),
    "serving_mnc": ((str, type(None)), [("value", lambda v: v is None or MNC(v))], None),
    "roaming": (bool, [], False),
}
REQUEST = {
    "protocol": (int, [("value", lambda v: v == 1)], 1),
    "device": (dict, [], REQUIRED),
    "sims": (list, [("count", length(0, 2))], REQUIRED),
    "nonce": (str, NONCE, REQUIRED),
    "certificates": (
        list,
        [("count", length(1, 3)), ("length", lambda v: all(len(str(c)) <= 4096 for c in v))],
        REQUIRED,
    ),
}
TIME_REQUEST = {
    "protocol": (int, [("value", lambda v: v == 2)], 2),
    "nonce": (str, NONCE, REQUIRED),
}


class Obj(dict[str, Any]):
    """A JSON object that remembers its members as written (a duplicate included)."""

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        super().__init__(pairs)
        self.pairs = pairs


def canonical(value: Any) -> str:
    """Section 1: RFC 8785 for our values (ASCII keys sorted, integers, strings, booleans)."""
    if isinstance(value, Obj):
        items = sorted(value.pairs, key=lambda p: p[0])
        return "{" + ",".join(f"{canonical(k)}:{canonical(v)}" for k, v in items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(canonical(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def depth(raw: bytes) -> int:
    """How deep arrays and objects nest, counted before any parser recurses."""
    deepest = level = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            escaped, in_string = (False, True) if escaped else (byte == 92, byte != 34)
        elif byte == 34:
            in_string = True
        elif byte in b"[{":
            level += 1
            deepest = max(deepest, level)
        elif byte in b"]}":
            level -= 1
    return deepest


class Message:
    """A request as http-message-signatures reads it (header names in lower case)."""

    def __init__(self, method: str, url: str, headers: dict[str, str], body: bytes) -> None:
        self.method, self.url, self.headers, self.body = method, url, headers, body


class KeyResolver(HTTPSignatureKeyResolver):
    def __init__(self, key: Any) -> None:
        self.key = key

    def resolve_public_key(self, key_id: str) -> Any:
        return self.key


class Verifier(HTTPMessageVerifier):
    def validate_created_and_expires(self, sig_input: Any, max_age: Any = None) -> None:
        pass  # judged on the server's clock once the signature verified (check 5a)


class MinimalServer:
    """The server's state and checks; :meth:`start` serves it on 127.0.0.1."""

    #: hooks: section 6's order (signature present before the body; the signature before its time)
    body_first = time_first = False

    def __init__(
        self, root: x509.Certificate, vendor_key: ed25519.Ed25519PrivateKey, now: Callable[[], int]
    ) -> None:
        self.root, self.vendor_key, self.now = root, vendor_key, now
        raw = vendor_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.key_id = "vendor-" + hashlib.sha256(raw).hexdigest()[:16]
        self.lock = threading.Lock()
        self.nonces: dict[str, tuple[Any, str, str]] = {}  # nonce -> (created, path, serial)
        self.sequences: dict[str, int] = {}

    def check(self, ok: Any, rule: str, status: int, code: str, message: str) -> bool:
        """Hook: refuse unless ``ok`` (True when it held)."""
        if not ok:
            raise Refused(status, code, message)
        return True

    def malformed(self, ok: Any, rule: str, message: str) -> bool:
        return self.check(ok, rule, 400, "malformed_request", message)

    def certificate(self, ok: Any, rule: str, message: str) -> bool:
        return self.check(ok, rule, 403, "certificate_invalid", message)

    def unsigned(self, ok: Any, rule: str, message: str) -> bool:
        return self.check(ok, rule, 401, "signature_invalid", message)

    # --- section 1: the body -------------------------------------------------------------------

    def parse(self, raw: bytes, where: str, schema: dict[str, Any]) -> Any:
        """Strict JSON, the schema, then canonical form."""
        self.malformed(depth(raw) <= MAX_DEPTH, "body:depth", f"nested deeper than {MAX_DEPTH}")
        if raw.startswith(b"\xef\xbb\xbf") and not self.malformed(
            False, "body:bom", "a byte order mark"
        ):
            raw = raw[3:]
        if b"\x00" in raw and not self.malformed(False, "body:utf16", "not UTF-8 (UTF-16?)"):
            raw = raw.decode("utf-16").encode()
        try:
            text = raw.decode()
        except UnicodeDecodeError:
            self.malformed(False, "body:utf8", "not UTF-8")
            text = raw.decode(errors="replace")
        try:
            data = json.loads(
                text, object_pairs_hook=Obj, parse_constant=self._nan, parse_int=self._int
            )
        except ValueError:
            self.malformed(False, "body:json", "not JSON")
            raise RuntimeError("no JSON to go on with") from None
        self._duplicates(data)
        if self.malformed(isinstance(data, dict), "body:object", "not a JSON object"):
            self.fields(data, schema, where)
        if where == "body":
            self.fields(data.get("device"), DEVICE, "device")
            for sim in data.get("sims") or []:
                self.fields(sim, SIM, "sim")
                pair = (sim.get("serving_mcc") is None) == (sim.get("serving_mnc") is None)
                self.malformed(pair, "sim.serving:pair", "serving_mcc and serving_mnc go together")
            slots = [sim.get("slot") for sim in data.get("sims") or []]
            self.malformed(len(slots) == len(set(slots)), "sims:slots", "a slot twice")
        self._canonical(data, text, where)
        return data

    def _nan(self, name: str) -> Any:
        raise Refused(400, "malformed_request", f"{name} is not JSON")

    def _int(self, text: str) -> int:
        if abs(int(text)) > 2**53 - 1:
            raise Refused(400, "malformed_request", "an integer outside +-(2**53 - 1)")
        return int(text)

    def _duplicates(self, value: Any) -> None:
        if isinstance(value, Obj):
            self.malformed(len(value) == len(value.pairs), "body:duplicate", "a duplicate key")
        for item in (
            value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
        ):
            self._duplicates(item)

    def fields(self, obj: Any, schema: dict[str, Any], where: str) -> None:
        if not self.malformed(isinstance(obj, dict), f"{where}:type", f"{where} must be an object"):
            return
        unknown = sorted(set(obj) - set(schema))
        self.malformed(not unknown, f"{where}:unknown", f"{where}: unknown fields {unknown}")
        for key, (kind, checks, default) in schema.items():
            if key not in obj:
                self.malformed(
                    default is not REQUIRED, f"{where}.{key}:missing", f"{where}.{key} is required"
                )
                continue
            value = obj[key]
            kinds = kind if isinstance(kind, tuple) else (kind,)
            typed = type(value) in kinds or (dict in kinds and isinstance(value, Obj))
            self.malformed(typed, f"{where}.{key}:type", f"{where}.{key} has the wrong type")
            for name, test in checks if typed else []:
                self.malformed(test(value), f"{where}.{key}:{name}", f"{where}.{key}: bad {name}")

    def _canonical(self, data: Any, text: str, where: str) -> None:
        form = canonical(data)
        try:
            form.encode()
        except UnicodeEncodeError:
            self.malformed(False, "body:surrogate", "a lone surrogate has no UTF-8 form")
            form = form.encode(errors="backslashreplace").decode()
        if form == text or (where == "body" and self.lenient_canonical(data, text, form)):
            return
        self.malformed(False, f"{where}:canonical", "not in canonical form (RFC 8785)")

    def lenient_canonical(self, data: Any, text: str, form: str) -> bool:
        """Hook: what else is taken for canonical (nothing)."""
        return False

    # --- section 3: the chain and the claims ---------------------------------------------------

    def verify_chain(self, items: list[str], now: int) -> tuple[dict[str, Any], Any]:
        try:
            ders = [base64.b64decode(item, validate=True) for item in items]
        except ValueError:
            self.certificate(False, "chain:base64", "a certificate is not base64")
            raise RuntimeError("no certificate to go on with") from None
        try:
            certs = [x509.load_der_x509_certificate(der) for der in ders]
        except ValueError:
            self.certificate(False, "chain:der", "a certificate is not DER")
            raise RuntimeError("no certificate to go on with") from None
        leaf = certs[0]
        issuer = next((c for c in certs[1:] if c.subject == leaf.issuer), None)
        if self.certificate(issuer is not None, "chain:path", "no intermediate issued the device"):
            assert issuer is not None
            self.certificate(
                _issued_by(leaf, issuer), "chain:leaf-signature", "not the intermediate's"
            )
            self.certificate(_issued_by(issuer, self.root), "chain:root", "not the factory's")
            for ca in (issuer, self.root):
                self.certificate(_valid(ca, now), "chain:validity", "a CA is not valid now")
            basic, usage, purpose = _profile(issuer)
            ok = basic is not None and basic.critical and basic.value.ca
            ok = ok and usage is not None and usage.value.key_cert_sign
            ok = ok and (purpose is None or bool({CLIENT_AUTH, ANY_PURPOSE} & set(purpose.value)))
            self.certificate(ok, "chain:intermediate", "the intermediate is not a CA for devices")
        self.certificate(
            leaf.not_valid_before_utc.timestamp() <= now, "device:not-yet-valid", "not valid yet"
        )
        self.certificate(now <= leaf.not_valid_after_utc.timestamp(), "device:expired", "expired")
        self._device_profile(leaf)
        return self._claims(leaf), leaf.public_key()

    def _device_profile(self, leaf: x509.Certificate) -> None:
        basic, usage, purpose = _profile(leaf)
        if self.certificate(basic is not None, "device:basic", "no BasicConstraints"):
            self.certificate(not basic.value.ca, "device:not-ca", "the device certificate is a CA")
        self.certificate(usage is not None and usage.critical, "device:usage-critical", "KeyUsage")
        if usage is not None:
            self.certificate(
                usage.value.digital_signature, "device:usage-sign", "no digitalSignature"
            )
            ca_bits = usage.value.key_cert_sign or usage.value.crl_sign
            self.certificate(not ca_bits, "device:usage-ca", "keyCertSign or cRLSign")
        if self.certificate(purpose is not None, "device:purpose", "no ExtendedKeyUsage"):
            self.certificate(CLIENT_AUTH in purpose.value, "device:client-auth", "no clientAuth")
        unknown = [
            e
            for e in leaf.extensions
            if e.critical and e.oid.dotted_string not in KNOWN and e.oid != CLAIMS_OID
        ]
        self.certificate(not unknown, "device:critical", "an unknown critical extension")
        key = leaf.public_key()
        p256 = isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1)
        self.certificate(p256, "device:p256", "the device key is not P-256")

    def _claims(self, leaf: x509.Certificate) -> dict[str, Any]:
        try:
            ext = leaf.extensions.get_extension_for_oid(CLAIMS_OID)
        except x509.ExtensionNotFound:
            self.certificate(False, "claims:present", "no device claims")
            return {}
        self.certificate(not ext.critical, "claims:critical", "the claims extension is critical")
        try:
            pairs = json.loads(ext.value.value.decode(), object_pairs_hook=list)  # type: ignore[attr-defined]
        except ValueError:
            self.certificate(False, "claims:json", "the claims are not UTF-8 JSON")
            raise RuntimeError("no claims to go on with") from None
        claims = dict(pairs) if isinstance(pairs, list) else {}
        self.certificate(len(claims) == len(pairs), "claims:duplicate", "a claims key twice")
        self.certificate(
            set(claims) == {"imeis", "market", "model", "serial"}, "claims:keys", "keys"
        )
        imeis = claims.get("imeis")
        good = isinstance(imeis, list) and bool(imeis) and all(map(luhn_ok, imeis))
        self.certificate(good, "claims:imei", "the claims carry an invalid IMEI")
        return claims

    # --- section 5: the signature --------------------------------------------------------------

    def verify_signature(self, message: Message, key: Any, serial: Any, now: int) -> dict[str, Any]:
        """Checks 5 and 5a; the signature's parameters."""
        headers = message.headers
        try:
            inputs = http_sf.parse(headers["signature-input"].encode(), tltype="dictionary")
            values = http_sf.parse(headers["signature"].encode(), tltype="dictionary")
        except ValueError:
            self.unsigned(False, "sig:syntax", "Signature-Input or Signature is malformed")
            return {}
        label, (components, params) = next(iter(inputs.items()))
        self.unsigned(
            label == "device" and label in values, "sig:label", "the label must be device"
        )
        names = [name for name, _ in components]
        for name in COMPONENTS:
            self.unsigned(name in names, f"cover:{name}", f"{name} is not covered")
        fields_present = all(n in headers for n in names if not n.startswith("@"))
        created, expires, alg = (
            params.get("created"),
            params.get("expires"),
            params.get("alg", "ecdsa-p256-sha256"),
        )
        checks = [  # a broken one of these: the library would refuse, so it is not asked
            ("sig:one", len(inputs) == 1 == len(values), "exactly one signature"),
            ("cover:unique", len(set(names)) == len(names), "a component twice"),
            ("cover:absent", fields_present, "a covered field is not in the request"),
            ("param:created", "created" in params, "created is required"),
            ("param:created-type", type(params.get("created", 0)) is int, "created: an Integer"),
            ("param:keyid", "keyid" in params, "keyid is required"),
            (
                "param:keyid-serial",
                serial is None or params.get("keyid", serial) == serial,
                "serial",
            ),
            ("param:alg", "alg" in params, "alg is required"),
            ("param:alg-type", type(alg) is str, "alg must be a String"),
            ("param:alg-value", alg == "ecdsa-p256-sha256", "alg must be ecdsa-p256-sha256"),
            ("param:nonce", "nonce" in params, "nonce is required"),
            ("param:unknown", set(params) <= PARAMS, "an unknown parameter"),
        ]
        held = [self.unsigned(ok, rule, text) for rule, ok, text in checks]
        if self.time_first:
            self._fresh(created, expires, now)
        self._digest(message)
        if all(held):
            self._crypto(message, key, [n for n in COMPONENTS if n in names])
        if not self.time_first:
            self._fresh(created, expires, now)
        return dict(params)

    def _digest(self, message: Message) -> None:
        try:
            members = http_sf.parse(
                message.headers.get("content-digest", "").encode(), tltype="dictionary"
            )
        except ValueError:
            members = {}
        hashers = {"sha-256": hashlib.sha256, "sha-512": hashlib.sha512}
        self.unsigned("sha-256" in members, "digest:sha-256", "Content-Digest needs sha-256")
        for name, (value, _) in members.items():
            if self.unsigned(name in hashers, "digest:known", f"{name}: an algorithm not checked"):
                expected = hashers[name](message.body).digest()
                if self.unsigned(
                    isinstance(value, bytes) and len(value) == len(expected),
                    "digest:length",
                    "length",
                ):
                    self.unsigned(
                        hmac.compare_digest(value, expected),
                        f"digest:match-{name}",
                        f"{name} mismatch",
                    )

    def _crypto(self, message: Message, key: Any, required: list[str]) -> None:
        verifier = Verifier(
            signature_algorithm=algorithms.ECDSA_P256_SHA256, key_resolver=KeyResolver(key)
        )
        for candidate in self.candidates(message):
            try:
                verifier.verify(candidate, max_age=None, require_components=required)
                return
            except Exception:  # each candidate is tried; none verifying is the refusal
                continue
        self.unsigned(False, "sig:verifies", "the signature does not verify")

    def candidates(self, message: Message) -> list[Message]:
        """Hook: the request as the signature base is built from it (as received)."""
        return [message]

    def _fresh(self, created: Any, expires: Any, now: int) -> None:
        if type(created) is int:
            self.check(
                created >= now - SKEW, "fresh:past", 401, "signature_stale", "created is too old"
            )
            self.check(
                created <= now + SKEW, "fresh:future", 401, "signature_stale", "created is ahead"
            )
        if type(expires) is int:
            self.check(expires >= now - SKEW, "fresh:expires", 401, "signature_stale", "expired")

    # --- section 6: a contact end to end -------------------------------------------------------

    def contact(self, message: Message) -> Answer:
        headers = message.headers
        if self.body_first:
            self.parse(message.body, "body", REQUEST)
        signed = "signature-input" in headers and "signature" in headers
        if "signature-input" not in headers and "signature" not in headers:
            self.unsigned(False, "sig:none", "the request is not signed")
        elif not signed:
            self.unsigned(False, "sig:half", "Signature-Input and Signature go together")
        body = self.parse(message.body, "body", REQUEST)
        now = self.now()
        claims, key = self.verify_chain(body["certificates"], now)
        params = self.verify_signature(message, key, claims.get("serial"), now) if signed else {}
        if "nonce" in params:
            self.unsigned(params["nonce"] == body["nonce"], "nonce:match", "not the body's nonce")
        device, certified = body["device"], list(claims.get("imeis") or [])
        if claims:  # check 7 (without claims there is nothing to hold the body to)
            for name in ("serial", "model", "market"):
                self.certificate(device[name] == claims[name], f"claims:{name}", f"{name} differs")
            imeis = device["imeis"]
            self.certificate(len(imeis) == len(certified), "claims:imeis-count", "IMEIs differ")
            self.certificate(all(i in certified for i in imeis), "claims:imeis-member", "IMEIs")
            ordered = set(imeis) != set(certified) or imeis == certified
            self.certificate(ordered, "claims:imeis-order", "the IMEIs in another order")
        return self._answer(message, body, params.get("created"), now, certified or device["imeis"])

    def _answer(
        self, message: Message, body: Any, created: Any, now: int, imeis: list[str]
    ) -> Answer:
        serial, nonce = body["device"]["serial"], body["nonce"]
        here = (created, message.url.split("://", 1)[1].partition("/")[2].split("?")[0], serial)
        request = hashlib.sha256(
            message.body + message.headers.get("signature", "").encode()
        ).digest()
        with self.lock:
            seen = self.nonces.get(nonce)
            if seen is not None:
                earlier = self.repeat(request)
                if earlier is not None:
                    return earlier
                if self.same_use(seen, here):
                    raise Refused(409, "nonce_replayed", "this nonce was used before")
            self.nonces[nonce] = here
            sequence = self.sequences[serial] = self.sequences.get(serial, 0) + 1
            verdict = {
                "device_serial": serial, "imei": imeis[0], "status": "activated",
                "reason": "ACTIVATION_OK", "message": "Activated.", "nonce": nonce,
                "issued_at": now, "expires_at": now + 7 * DAY, "sequence": sequence,
                "policy_version": "minimal-1", "next_checkin_after": DAY, "protocol": 1,
            }  # fmt: skip
            answer = self.signed(verdict, now)
            self.remember(request, answer)
        return answer

    def same_use(self, seen: tuple[Any, str, str], here: tuple[Any, str, str]) -> bool:
        """Hook: whether a nonce seen before (created, path, serial) is used again (always)."""
        return True

    def repeat(self, request: bytes) -> Answer | None:
        """Hook: an earlier answer to the very same request, to send again (never)."""
        return None

    def remember(self, request: bytes, answer: Answer) -> None:
        """Hook: keep an answer for :meth:`repeat` (not kept)."""

    def signed(self, value: dict[str, Any], now: int) -> Answer:
        """Section 7: a 200 signed with the vendor key."""
        body = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        digest = f"sha-256=:{base64.b64encode(hashlib.sha256(body).digest()).decode()}:"
        params = f'{VERDICT_COMPONENTS};created={now};keyid="{self.key_id}";alg="ed25519"'
        lines = ['"@status": 200', f'"content-type": {JSON}', f'"content-digest": {digest}']
        base = "\n".join([*lines, f'"@signature-params": {params}'])
        signature = base64.b64encode(self.vendor_key.sign(base.encode())).decode()
        headers = {"Content-Type": "application/json", "Content-Digest": digest,
                   "Signature-Input": f"vendor={params}", "Signature": f"vendor=:{signature}:"}  # fmt: skip
        return 200, headers, body

    def handle(
        self, method: str, target: str, headers: dict[str, str], read: Callable[[int], bytes]
    ) -> Answer:
        path = self.route(method, target.split("?")[0])
        if path not in ROUTES:
            raise Refused(404, "not_found", "no such endpoint")
        if method != ROUTES[path]:
            raise Refused(405, "method_not_allowed", f"use {ROUTES[path]}")
        if method == "GET":
            health = {"status": "ok", "policy_version": "minimal-1", "vendor_key_id": self.key_id}
            return 200, {"Content-Type": "application/json"}, json.dumps(health).encode()
        size = headers.get("content-length", "0")
        if not size.isdigit():
            self.malformed(False, "http:length", "Content-Length is not a number")
            raise RuntimeError("no length to go on with")
        self.check(
            int(size) <= MAX_BODY, "body:size", 413, "payload_too_large", f"over {MAX_BODY} bytes"
        )
        raw = read(int(size))
        if path == "/v1/time":  # section 2.1
            asked, now = self.parse(raw, "time", TIME_REQUEST), self.now()
            return self.signed(
                {
                    "nonce": asked["nonce"],
                    "now": now,
                    "mode": "simulated",
                    "speed": 0,
                    "protocol": 2,
                },
                now,
            )
        return self.contact(
            Message("POST", f"http://{headers.get('host', '')}{target}", headers, raw)
        )

    def route(self, method: str, path: str) -> str:
        """Hook: the endpoint a request goes to (its path)."""
        return path

    # --- serving -------------------------------------------------------------------------------

    def start(self) -> MinimalServer:
        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.http.app = self  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http.server_address[1]}"

    def stop(self) -> None:
        self.http.shutdown()
        self.http.server_close()
        self.thread.join()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # the status line and the body go in two writes

    def _answer(self) -> None:
        app: MinimalServer = self.server.app  # type: ignore[attr-defined]
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            headers[name.lower()] = (
                f"{headers[name.lower()]}, {value}" if name.lower() in headers else value
            )
        try:
            status, extra, body = app.handle(self.command, self.path, headers, self.rfile.read)
        except Exception as exc:  # every failure is a JSON error; one we did not expect, a 500
            refused = (
                exc
                if isinstance(exc, Refused)
                else Refused(500, "internal_error", "the server failed")
            )
            status, extra = refused.status, {"Content-Type": "application/json"}
            body = json.dumps({"error": {"code": refused.code, "message": str(refused)}}).encode()
            if status == 405:
                extra["Allow"] = ROUTES[self.path.split("?")[0]]
        self.send_response(status)
        for name, value in {
            **extra,
            "Content-Length": str(len(body)),
            "Connection": "close",
        }.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _valid(cert: x509.Certificate, now: int) -> bool:
    return cert.not_valid_before_utc.timestamp() <= now <= cert.not_valid_after_utc.timestamp()


def _profile(cert: x509.Certificate) -> list[Any]:
    """The certificate's BasicConstraints, KeyUsage and ExtendedKeyUsage (None when absent)."""
    found = {type(e.value): e for e in cert.extensions}
    return [
        found.get(kind) for kind in (x509.BasicConstraints, x509.KeyUsage, x509.ExtendedKeyUsage)
    ]
