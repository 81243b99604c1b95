"""The minimal server with rules broken on purpose: the conformance kit's test of itself.

:class:`BrokenServer` is :class:`~tests.support.minimal_server.MinimalServer` with a set of
rules (its check names) it does not enforce, each the way a server with that one bug would
behave: the request goes on as if the check had passed; where nothing can go on (no JSON, no
certificate), it answers 500; where a rule is a matter of leniency (what is taken for
canonical, how the signed URI is rebuilt, how a nonce is remembered), the hook is lenient in
exactly that respect. ``broken`` may change between runs of the kit.

With ``recording`` on it answers exactly as the minimal server does, but first goes through
every check of each request (none refuses) and adds the rules a request breaks, hooks
included, to ``violations``. A broken rule changes the answer only to a request that breaks
it, so a case whose requests break none of a rule cannot fail against a server broken at that
rule alone: what ``tests/functional/test_conformance_matrix.py`` relies on to run each broken
server against the cases that can tell.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from tests.support.minimal_server import (
    ROUTES,
    Answer,
    KeyResolver,
    Message,
    MinimalServer,
    Refused,
    Verifier,
    algorithms,
)

#: the host a server broken at "target:host" also takes for its own (a stale public name)
OTHER_HOST = "phone-sim.invalid"
ENDPOINTS = ("/v1/activation", "/v1/checkin")
PRESENCE = {"sig:none", "sig:half"}
FRESH = {"fresh:past", "fresh:future", "fresh:expires"}


class BrokenServer(MinimalServer):
    broken: frozenset[str] = frozenset()
    recording = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.answers: dict[bytes, Answer] = {}
        self.violations: set[str] = set()
        self._request = threading.local()

    @property  # type: ignore[override]
    def body_first(self) -> bool:
        return "order:body-first" in self.broken

    @property  # type: ignore[override]
    def time_first(self) -> bool:
        return "order:time-first" in self.broken

    # --- recording ------------------------------------------------------------------------------

    def _note(self, rule: str, refusal: Refused | None = None) -> None:
        state = self._request
        state.rules.append((rule, getattr(state, "phase", "")))
        if refusal is not None and state.first is None:
            state.first = refusal

    def _phase(self, name: str, run: Callable[[], Any]) -> Any:
        self._request.phase = name
        try:
            return run()
        finally:
            self._request.phase = ""

    def handle(
        self, method: str, target: str, headers: dict[str, str], read: Callable[[int], bytes]
    ) -> Answer:
        if not self.recording:
            return super().handle(method, target, headers, read)
        state = self._request
        state.rules, state.first = [], None
        try:
            answer, stop = super().handle(method, target, headers, read), None
        except Exception as exc:  # the first refusal noted came first; else this one stands
            answer, stop = None, exc
        rules = {rule for rule, _ in state.rules}
        # An order matters only to a request that breaks a rule on each side of it.
        if rules & PRESENCE and any(phase == "body" for _, phase in state.rules):
            rules.add("order:body-first")
        signature = {r for r, phase in state.rules if phase == "signature"}
        if any(r.startswith("fresh:") for r in rules) and signature - FRESH:
            rules.add("order:time-first")
        with self.lock:
            self.violations |= rules
        if state.first is not None:
            raise state.first
        if stop is not None:
            raise stop
        assert answer is not None
        return answer

    def check(self, ok: Any, rule: str, status: int, code: str, message: str) -> bool:
        if ok:
            return True
        if self.recording:
            self._note(rule, Refused(status, code, message))
            return False
        if rule in self.broken:
            return False
        return super().check(ok, rule, status, code, message)

    def parse(self, raw: bytes, where: str, schema: dict[str, Any]) -> Any:
        return self._phase("body", lambda: super(BrokenServer, self).parse(raw, where, schema))

    def verify_signature(self, message: Message, key: Any, serial: Any, now: int) -> dict[str, Any]:
        run = super().verify_signature
        return self._phase("signature", lambda: run(message, key, serial, now))  # type: ignore[no-any-return]

    def _answer(
        self, message: Message, body: Any, created: Any, now: int, imeis: list[str]
    ) -> Answer:
        if self.recording and self._request.first is not None:
            raise self._request.first  # the minimal server stopped earlier: nothing is recorded
        return super()._answer(message, body, created, now, imeis)

    # --- the hooks ------------------------------------------------------------------------------

    def lenient_canonical(self, data: Any, text: str, form: str) -> bool:
        compact = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        unescaped = re.sub(r"\\u00([2-7][0-9a-f])", lambda m: chr(int(m[1], 16)), text)
        lenient = {
            "canonical:order": compact == text,
            "canonical:whitespace": _minify(text) == form,
            "canonical:escape": unescaped == form,
            "canonical:newline": text.rstrip("\n") == form,
        }
        for rule in (r for r, taken in lenient.items() if taken and self.recording):
            self._note(rule)
        return any(taken and rule in self.broken for rule, taken in lenient.items())

    def _crypto(self, message: Message, key: Any, required: list[str]) -> None:
        if not self.recording:
            return super()._crypto(message, key, required)
        verifier = Verifier(
            signature_algorithm=algorithms.ECDSA_P256_SHA256, key_resolver=KeyResolver(key)
        )
        for rule, candidate in [("", message), *self._variants(message)]:
            try:
                verifier.verify(candidate, max_age=None, require_components=required)
            except Exception:  # this reading of the request does not verify
                if not rule:
                    self.check(False, "sig:verifies", 401, "signature_invalid", "does not verify")
                continue
            if not rule:
                return
            self._note(rule)
        return None

    def candidates(self, message: Message) -> list[Message]:
        return [message, *(m for rule, m in self._variants(message) if rule in self.broken)]

    def _variants(self, message: Message) -> list[tuple[str, Message]]:
        """The request as a server broken at each "target:" rule (or "sig:raw") reads it."""
        url = message.url
        scheme, _, rest = url.partition("://")
        other = "https" if scheme == "http" else "http"
        urls = [
            ("target:path", url.replace(a, b))
            for a, b in zip(ENDPOINTS, ENDPOINTS[::-1], strict=True)
            if a in url
        ]
        urls += [
            ("target:host", f"{scheme}://{OTHER_HOST}/{rest.partition('/')[2]}"),
            ("target:scheme", f"{other}://{rest}"),
            ("target:query", url.split("?")[0]),
        ]
        found = [
            (rule, Message(message.method, u, message.headers, message.body))
            for rule, u in urls
            if u != url
        ]
        return [*found, ("sig:raw", _der_as_raw(message))]

    def same_use(self, seen: tuple[Any, str, str], here: tuple[Any, str, str]) -> bool:
        keyed = {"nonce:per-created": 0, "nonce:per-path": 1, "nonce:per-device": 2}
        differ = [rule for rule, i in keyed.items() if seen[i] != here[i]]
        for rule in differ if self.recording else []:
            self._note(rule)
        return not any(rule in self.broken for rule in differ)

    def repeat(self, request: bytes) -> Answer | None:
        earlier = self.answers.get(request)
        if earlier is not None and self.recording:
            self._note("nonce:idempotent")
        return earlier if "nonce:idempotent" in self.broken else None

    def remember(self, request: bytes, answer: Answer) -> None:
        self.answers[request] = answer

    def route(self, method: str, path: str) -> str:
        posts = {p for p, m in ROUTES.items() if m == "POST"}
        rule = None
        if path not in ROUTES and method == "POST":
            rule = "http:route"
        elif path in posts and method != "POST":
            rule = "http:405"
        if rule is not None and self.recording:
            self._note(rule)
        if rule == "http:route" and rule in self.broken:
            return "/v1/activation"
        if rule == "http:405" and rule in self.broken:
            raise Refused(404, "not_found", "no such endpoint")
        return path


def _minify(text: str) -> str:
    """``text`` without whitespace between tokens (trailing whitespace kept)."""
    body = text.rstrip()
    out, in_string, escaped = [], False, False
    for char in body:
        if in_string:
            escaped, in_string = (False, True) if escaped else (char == "\\", char != '"')
        elif char in " \t\r\n":
            continue
        else:
            in_string = char == '"'
        out.append(char)
    return "".join(out) + text[len(body) :]


def _der_as_raw(message: Message) -> Message:
    """The request with a DER-encoded signature read as r || s."""
    label, _, value = message.headers.get("signature", "").partition("=")
    try:
        r, s = decode_dss_signature(base64.b64decode(value.strip(":")))
    except ValueError:
        return message
    raw = base64.b64encode(r.to_bytes(32, "big") + s.to_bytes(32, "big")).decode()
    headers = {**message.headers, "signature": f"{label}=:{raw}:"}
    return Message(message.method, message.url, headers, message.body)
