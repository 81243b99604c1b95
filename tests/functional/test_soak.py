"""A bounded soak: a real server process takes hostile inputs mixed with honest traffic.

For ``SOAK_SECONDS`` one server process (``ServerProcesses``, a request deadline of two seconds
and a cap of 100 connections) is sent, from a thread per kind: honest activations and check-ins
from test devices, signed as a phone signs them; malformed and deeply nested bodies; stalled,
oversized and replayed requests; bad signatures and bodies changed after signing; broken HTTP
framing and header floods; the admin API without its token, with a spoofed ``X-Forwarded-For``
and with integers past 64 bits. Then:

* every honest request was answered with a verdict whose vendor signature verifies and which
  answers that device and that request (sent a second time, the same request, when the server
  closed its connection to make room before it had all arrived: at most one request in a
  hundred, see ``Soak.sent``);
* no answer at all was a 5xx, and every hostile one had the status its kind calls for;
* the server's peak memory (``VmHWM``) stayed under ``MEMORY_BOUND_MIB``.

The figures are printed (``pytest -s``) so they can be quoted.
"""

from __future__ import annotations

import datetime as dt
import http.client
import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pytest
import requests
import urllib3

from phone_sim.protocol.identity import Factory
from phone_sim.protocol.imei import make_imei
from phone_sim.protocol.keys import load_vendor_public_key, vendor_key_id
from phone_sim.protocol.messages import Verdict
from phone_sim.protocol.signing import WireRequest, WireResponse, verify_verdict_response
from server_stub.runtime.processes import ServerProcesses
from tests.support.raw_http import address, connect, ended, parse, read_to_end
from tests.support.signed_client import (
    ACTIVATION_PATH,
    CHECKIN_PATH,
    SEPT_2021,
    DeviceIdentity,
    send,
    session,
    sim,
)
from tests.support.vendor import settings_in_a_process

SOAK_SECONDS = 8.0
MEMORY_BOUND_MIB = 256
#: what each kind of request may be answered with (0: the connection closed without an answer;
#: -1, never expected: still open when the client gave up)
EXPECTED: dict[str, set[int]] = {
    "honest": {200},
    "operator": {200},
    "replayed": {409},
    "bad signature": {401},
    "body changed after signing": {401},
    "malformed body": {400, 401},
    "deeply nested": {400},
    "oversized": {413},
    "framing error": {400},
    "header flood": {431},
    "stalled": {408, 0},
    "admin without token": {401},
    "admin, integer past 64 bits": {400},
}


class Soak:
    """The server under test and what each kind of request got."""

    def __init__(self, processes: ServerProcesses, devices: list[DeviceIdentity]) -> None:
        self.url = processes.url
        self.pid = processes.pids[0]
        self.token = processes.started.admin_token.value
        self.vendor_key = load_vendor_public_key(processes.started.vendor_public_key)
        self.devices = devices
        self.answered: dict[str, Counter[int]] = {kind: Counter() for kind in EXPECTED}
        self.not_json: list[str] = []  # error answers whose body was not an ErrorBody
        self.honest_verified = 0
        #: requests whose connection was closed to make room before they had all arrived, and
        #: were sent again
        self.sent_again: Counter[str] = Counter()
        self.replayable: list[WireRequest] = []
        self.peak_rss_kib = 0
        self._lock = threading.Lock()
        self.until = time.monotonic() + SOAK_SECONDS

    def honest_answered(self) -> int:
        with self._lock:
            return sum(self.answered["honest"].values())

    def record(self, kind: str, status: int, content_type: str | None = "application/json") -> None:
        with self._lock:
            self.answered[kind][status] += 1
            if status >= 400 and content_type != "application/json":
                self.not_json.append(f"{kind}: {status} {content_type}")

    def answer(self, kind: str, response: requests.Response) -> None:
        self.record(kind, response.status_code, response.headers.get("content-type"))

    def sent(self, kind: str, call: Callable[[], requests.Response]) -> requests.Response:
        """``call()``, made once more if the server closed its connection before any answer, or
        answered 408 because it made room for a newcomer before the request had all arrived.

        Over the cap, a connection whose request has not all arrived is as good as stalled: it
        may be the one that waited longest, and be closed to make room (``runtime/connections``;
        a request that has arrived never is: ``test_server_connections``). A client here can be
        kept for milliseconds between connecting and sending, or between the head and the body
        (fourteen threads share one interpreter lock), and so was, once in 22 runs. A phone
        sends again; so does the soak, the same request with the same nonce: had the server
        acted on it, the second answer would be 409 (a replay) and fail the soak."""
        try:
            response = call()
        except requests.ConnectionError as error:
            if not _closed_unanswered(error):
                raise
        else:
            if not _made_room(response):
                return response
        with self._lock:
            self.sent_again[kind] += 1
        return call()

    def sample_memory(self) -> None:
        with open(f"/proc/{self.pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    self.peak_rss_kib = max(self.peak_rss_kib, int(line.split()[1]))

    # --- honest traffic -------------------------------------------------------------------

    def honest(self, rng: random.Random) -> None:
        device = rng.choice(self.devices)
        path = rng.choice([ACTIVATION_PATH, CHECKIN_PATH])
        request = device.request([sim(rng.choice(["262-01", "368-01", "250-01"]))])
        wire = device.sign(
            self.url + path, request.encode(), created=SEPT_2021, nonce=request.nonce
        )
        # a connection per contact, as a phone makes
        response = self.sent("honest", partial(send, wire, http=session()))
        self.answer("honest", response)
        verdict = self._verified(response)
        if verdict.device_serial == device.claims.serial and verdict.nonce == request.nonce:
            with self._lock:
                self.honest_verified += 1
                if len(self.replayable) < 50:
                    self.replayable.append(wire)

    def _verified(self, response: requests.Response) -> Verdict:
        assert response.status_code == 200, response.text
        wire = WireResponse(response.status_code, dict(response.headers), response.content)
        at = dt.datetime.fromtimestamp(SEPT_2021, tz=dt.UTC)
        key_id = vendor_key_id(self.vendor_key)
        verify_verdict_response(wire, public_key=self.vendor_key, key_id=key_id, now=at)
        return Verdict.decode(response.content)

    def operator(self, rng: random.Random) -> None:
        path = rng.choice(["/admin/devices", "/admin/audit?limit=20", "/admin/clock"])
        headers = {"Authorization": f"Bearer {self.token}"}
        call = partial(session().get, self.url + path, headers=headers, timeout=10)
        self.answer("operator", self.sent("operator", call))

    # --- hostile traffic ------------------------------------------------------------------

    def _signed(self, rng: random.Random, body: bytes | None = None) -> WireRequest:
        device = rng.choice(self.devices)
        request = device.request([sim("262-01")])
        url = self.url + ACTIVATION_PATH
        return device.sign(url, body or request.encode(), created=SEPT_2021, nonce=request.nonce)

    def replayed(self, rng: random.Random) -> None:
        with self._lock:
            wire = rng.choice(self.replayable) if self.replayable else None
        if wire is not None:
            self.answer("replayed", self.sent("replayed", partial(send, wire, http=session())))

    def bad_signature(self, rng: random.Random) -> None:
        wire = self._signed(rng)
        label, _, value = wire.headers["Signature"].partition("=:")
        flipped = value[:10] + ("A" if value[10] != "A" else "B") + value[11:]
        wire.headers["Signature"] = f"{label}=:{flipped}"
        self.answer(
            "bad signature", self.sent("bad signature", partial(send, wire, http=session()))
        )

    def body_changed(self, rng: random.Random) -> None:
        wire = self._signed(rng)
        # The SIM's home network, not a "262" that may fall in a certificate's base64.
        changed = wire.body.replace(b'"home_mcc":"262"', b'"home_mcc":"368"', 1)
        assert changed != wire.body
        kind = "body changed after signing"
        self.answer(kind, self.sent(kind, partial(send, wire, http=session(), body=changed)))

    def malformed(self, rng: random.Random) -> None:
        body = rng.choice(
            [b"{", b"[]", b"null", b'{"device": 1}', bytes(rng.randrange(256) for _ in range(300))]
        )
        if rng.random() < 0.5:  # signed, by a real device key: it meets the body check
            wire = self._signed(rng, body)
            call = partial(send, wire, http=session())
        else:
            url = self.url + ACTIVATION_PATH
            call = partial(session().post, url, data=body, timeout=10)
        self.answer("malformed body", self.sent("malformed body", call))

    def nested(self, rng: random.Random) -> None:
        depth = rng.choice([100, 1000, 2500])  # under the 16 KiB limit, arrays or objects
        body = (
            b"[" * depth + b"]" * depth
            if rng.random() < 0.5
            else b'{"a":' * depth + b"1" + b"}" * depth
        )
        if rng.random() < 0.5:
            wire = self._signed(rng, body)
            call = partial(send, wire, http=session())
        else:
            url = self.url + rng.choice([ACTIVATION_PATH, CHECKIN_PATH])
            call = partial(session().post, url, data=body, timeout=10)
        self.answer("deeply nested", self.sent("deeply nested", call))

    def oversized(self, rng: random.Random) -> None:
        chunked = rng.random() < 0.5

        def call() -> requests.Response:
            data: bytes | Iterator[bytes] = (
                (b"y" * 4096 for _ in range(64))  # chunked, as long as the server reads
                if chunked
                else b"x" * 40_000
            )
            return session().post(self.url + ACTIVATION_PATH, data=data, timeout=10)

        self.answer("oversized", self.sent("oversized", call))

    def framing(self, rng: random.Random) -> None:
        raw = rng.choice(
            [
                b"GARBAGE\r\n\r\n",
                b"GET /v1/health HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n",
                b"POST /v1/checkin HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
                b"POST /v1/checkin HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n",
            ]
        )
        self._raw("framing error", raw)

    def header_flood(self, rng: random.Random) -> None:
        self._raw(
            "header flood", b"GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Flood: " + b"f" * 70_000
        )

    def _raw(self, kind: str, raw: bytes, again: bool = True) -> None:
        with connect(self.url) as sock:
            sock.sendall(raw)
            answer = parse(read_to_end(sock, timeout=10))
        if answer is None and again:  # closed before any answer: sent again, as in ``sent``
            with self._lock:
                self.sent_again[kind] += 1
            self._raw(kind, raw, again=False)
        elif answer is None:
            self.record(kind, 0)
        else:
            self.record(kind, answer.status, answer.headers.get("content-type"))

    def stalled(self, rng: random.Random) -> None:
        """150 connections at a time (over the cap of 100) that stop half-way; each ends at the
        server's deadline (408) or earlier to make room (408, or closed if it sent nothing)."""
        partial = [
            b"",
            b"POST /v1/activation HTTP/1.1\r\nHost: x\r\n",
            b"POST /v1/activation HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{",
        ]
        socks = []
        for n in range(150):
            sock = socket.create_connection(address(self.url), timeout=10)
            sock.sendall(partial[n % 3])
            socks.append(sock)
        deadline = time.monotonic() + 6  # the server's deadline is 2 s
        for sock in socks:
            with sock:
                data, closed = ended(sock, timeout=max(0.05, deadline - time.monotonic()))
            answer = parse(data)
            if not closed:
                self.record("stalled", -1)
            elif answer is None:
                self.record("stalled", 0)
            else:
                self.record("stalled", answer.status, answer.headers.get("content-type"))

    def admin_hostile(self, rng: random.Random) -> None:
        spoofed = {"X-Forwarded-For": "127.0.0.1"}
        kind = "admin without token"
        url = self.url + "/admin/release/"
        call = partial(session().post, url, json={"reason": "x"}, headers=spoofed, timeout=10)
        self.answer(kind, self.sent(kind, call))
        big = rng.choice([2**63, 2**64, 10**30])
        headers = {"Authorization": f"Bearer {self.token}"}
        kind = "admin, integer past 64 bits"
        url = self.url + f"/admin/audit?after_id={big}"
        call = partial(session().get, url, headers=headers, timeout=10)
        self.answer(kind, self.sent(kind, call))


def _closed_unanswered(error: requests.ConnectionError) -> bool:
    """Whether the server closed the connection before any byte of an answer."""
    reason = error.args[0] if error.args else None
    return isinstance(reason, urllib3.exceptions.ProtocolError) and isinstance(
        reason.args[-1], http.client.RemoteDisconnected | ConnectionResetError
    )


def _made_room(response: requests.Response) -> bool:
    """Whether ``response`` is the 408 of a request cut short to make room for a newcomer."""
    return response.status_code == 408 and "waited longest" in response.text


def _status(status: int) -> str:
    return {0: "closed", -1: "still open"}.get(status, str(status))


#: honest exchanges the soak makes at least, mixed with the hostile ones: on a crowded machine
#: every kind of traffic goes on past SOAK_SECONDS until there are this many (an error, or a
#: minute more, ends it anyway)
MIN_HONEST = 101


def _going_on(soak: Soak) -> bool:
    now = time.monotonic()
    enough = soak.honest_answered() >= MIN_HONEST
    return now < soak.until or (not enough and now < soak.until + 60)


def _run(soak: Soak, name: str, action: Callable[[random.Random], None], errors: list[str]) -> None:
    rng = random.Random(name)
    while _going_on(soak):
        try:
            action(rng)
        except Exception as exc:  # reported below: the soak goes on
            errors.append(f"{name}: {type(exc).__name__}: {exc}")
            if len(errors) > 20:
                return


@pytest.mark.slow
def test_hostile_inputs_mixed_with_honest_traffic(tmp_path: Path, factory: Factory) -> None:
    devices = [
        DeviceIdentity.issue(
            factory,
            serial=f"RN9S5OAK{n:04d}",
            imeis=(make_imei("86781277", 2 * n), make_imei("86781277", 2 * n + 1)),
        )
        for n in range(16)
    ]
    settings = settings_in_a_process(
        tmp_path,
        # Two seconds: an honest keep-alive client's wait counts from its previous answer, and
        # on a crowded machine its next request (verify, sign, send) once took more than one
        # (a 408 in a clean-clone run, load 4). Stalls still end at the deadline.
        request_timeout=2.0,
        max_connections=100,
    )
    processes = ServerProcesses(settings, 1, log_level="critical")
    try:
        soak = Soak(processes, devices)
        actions: list[tuple[str, Callable[[random.Random], None]]] = [
            ("honest-1", soak.honest),
            ("honest-2", soak.honest),
            ("honest-3", soak.honest),
            ("operator", soak.operator),
            ("replayed", soak.replayed),
            ("bad signature", soak.bad_signature),
            ("body changed", soak.body_changed),
            ("malformed", soak.malformed),
            ("nested", soak.nested),
            ("oversized", soak.oversized),
            ("framing", soak.framing),
            ("header flood", soak.header_flood),
            ("stalled", soak.stalled),
            ("admin", soak.admin_hostile),
        ]
        errors: list[str] = []
        threads = [
            threading.Thread(target=_run, args=(soak, name, action, errors), name=name)
            for name, action in actions
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        while any(thread.is_alive() for thread in threads):
            soak.sample_memory()
            time.sleep(0.2)
        elapsed = time.monotonic() - started
        soak.sample_memory()
        health = session().get(soak.url + "/v1/health", timeout=5)
    finally:
        usage = processes.stop()
    peak_mib = max(soak.peak_rss_kib, usage[0].peak_rss_kib if usage[0] else 0) / 1024

    total = sum(sum(c.values()) for c in soak.answered.values())
    print(f"\nsoak: {elapsed:.1f} s, {total:,} requests, server peak RSS {peak_mib:.1f} MiB")
    for kind, statuses in soak.answered.items():
        shown = ", ".join(f"{_status(status)}: {n:,}" for status, n in sorted(statuses.items()))
        print(f"  {kind:30} {sum(statuses.values()):6,}   {shown}")
    honest = sum(soak.answered["honest"].values())
    print(f"  honest answered with a verified verdict: {soak.honest_verified:,} of {honest:,}")
    again = sum(soak.sent_again.values())
    print(f"  closed or cut short to make room, sent again: {again:,} {dict(soak.sent_again)}")

    assert errors == [], errors[:5]
    assert soak.not_json == [], soak.not_json[:5]
    assert health.status_code == 200
    fives = {k: s for k, c in soak.answered.items() for s in c if s >= 500}
    assert fives == {}, fives
    for kind, statuses in soak.answered.items():
        assert statuses, f"no {kind} request was made"
        assert set(statuses) <= EXPECTED[kind], (kind, statuses)
    assert soak.honest_verified == honest >= MIN_HONEST
    # A rare race, never a habit: of each kind, at most one request in a hundred was sent again.
    for kind, statuses in soak.answered.items():
        assert soak.sent_again[kind] <= max(2, sum(statuses.values()) // 100), soak.sent_again
    assert peak_mib < MEMORY_BOUND_MIB


def test_only_a_connection_closed_before_any_answer_is_sent_again() -> None:
    """What :meth:`Soak.sent` sends again: a connection the server accepted and closed without a
    byte of answer; not a refused connection, whose request nobody could have read."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/v1/health"

        def close_the_next() -> None:
            conn, _ = listener.accept()
            conn.recv(1024)
            conn.close()

        closer = threading.Thread(target=close_the_next)
        closer.start()
        with pytest.raises(requests.ConnectionError) as closed:
            session().get(url, timeout=5)
        closer.join(5)
    with pytest.raises(requests.ConnectionError) as refused:  # the listener is gone
        session().get(url, timeout=5)
    assert _closed_unanswered(closed.value)
    assert not _closed_unanswered(refused.value)
