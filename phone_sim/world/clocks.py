"""The world's time, wherever it lives, behind one interface (:class:`WorldClock`).

Three places hold a world's time, and each has one implementation:

* this process: :class:`~phone_sim.protocol.clock.SimulatedClock` (unit tests, a vendor given
  its clock);
* a data directory that our server's processes share:
  :class:`~server_stub.datadir.clock.SharedClock` (the embedded vendor, ``serve --workers``, a
  fleet's server processes and its phone processes all read the same file);
* a server of ours reached through its admin API: :class:`AdminClock`.

A vendor whose time nobody here may move keeps its own: :class:`SignedTime` reads it from the
vendor's signed time answer (``POST /v1/time``, PROTOCOL.md section 2.1), and a vendor without
one keeps :class:`~phone_sim.protocol.clock.RealTime`; both refuse ``advance`` at once, saying
why. Another process reaches the same time through a
:class:`ClockSource` (a small picklable value naming where time lives), never by messages that
carry times.
"""

from __future__ import annotations

import datetime as dt
import math
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ed25519

from phone_sim.protocol.clock import (
    ClockMode,
    RealTime,
    TimeNotControllable,
    WorldClock,
)
from phone_sim.protocol.errors import ProtocolError
from phone_sim.protocol.keys import load_vendor_public_key, vendor_key_id
from phone_sim.protocol.signing import JSON, WireResponse, verify_verdict_response
from phone_sim.protocol.timesync import TIME_PATH, TimeAnswer, TimeRequest
from server_stub.admin.client import AdminClient, AdminClientError
from server_stub.admin.models import ClockView
from server_stub.datadir.clock import SharedClock

__all__ = [
    "AdminApiSource",
    "AdminClock",
    "ClockSource",
    "RealTimeSource",
    "SharedFileSource",
    "SignedTime",
    "SignedTimeSource",
    "WorldClock",
]

#: real seconds a vendor has to give its signed time
SIGNED_TIME_TIMEOUT = 10.0
#: how often an :class:`AdminClock` asks the server again (real seconds), to see moves by others
REFRESH = 1.0


class AdminClock:
    """A server's simulated clock, read and moved through its admin API (needs the token).

    Between reads it runs on at the server's speed from the last reading; it asks again at
    most every :data:`REFRESH` real seconds, and after each advance, so a move made by another
    driver shows within a second. Like every simulated clock it never goes back in this process.

    Raises:
        TimeNotControllable: the server keeps real time (from the constructor).
        AdminClientError: the server cannot be reached or refuses the token.
    """

    mode = ClockMode.SIMULATED

    def __init__(self, admin: AdminClient) -> None:
        self._admin = admin
        self._lock = threading.Lock()
        self._last = 0.0
        self._take(admin.clock())

    def _take(self, view: ClockView) -> None:
        if not view.simulated:
            raise TimeNotControllable(
                f"the vendor at {self._admin.base_url} keeps real time: nobody can move it"
            )
        with self._lock:
            self._base, self._speed, self._read_at = float(view.now), view.speed, time.monotonic()
            self._last = max(self._last, self._base)

    @property
    def speed(self) -> float:
        return self._speed

    def refresh(self) -> None:
        """Read the server's time now (a move made by another driver shows at once)."""
        self._take(self._admin.clock())

    def now(self) -> float:
        if time.monotonic() - self._read_at >= REFRESH:
            self.refresh()
        with self._lock:
            value = self._base + (time.monotonic() - self._read_at) * self._speed
            self._last = max(self._last, value)
            return self._last

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("the simulated clock does not run backwards")
        if seconds > 0:
            # The admin API moves whole seconds; a step to a check-in may land a moment late,
            # never early (a check-in is due once its time has come). It also reads whole
            # seconds: on a running clock the reading after the move can lie up to a second
            # behind this clock's before it, plus the move, and every check-in due one
            # interval after its last would then wait a second more (a fleet round against
            # `make serve-vendor` sent nothing). The move counts from this clock's own time.
            before = self.now()
            try:
                self._take(self._admin.advance_clock(math.ceil(seconds)))
            except AdminClientError as exc:
                raise TimeNotControllable(f"the vendor did not move its clock: {exc}") from exc
            with self._lock:
                self._last = max(self._last, before + seconds)
        return self.now()


class SignedTime:
    """A vendor's time as its signed answer to a fresh nonce gives it; nobody here moves it.

    Asked once, then counted on at the answer's speed (a simulated clock standing still, or
    real time). Only an answer signed by the pinned key and bound to the nonce is taken.

    Raises:
        TimeNotControllable: the vendor gives no valid signed time (from the constructor).
    """

    def __init__(self, url: str, vendor_key: ed25519.Ed25519PublicKey, why: str) -> None:
        self.url = url.rstrip("/")
        self.why = why
        answer = _signed_time(self.url, vendor_key)
        self.mode = answer.mode
        self.speed = float(answer.speed)
        self._base, self._read_at = float(answer.now), time.monotonic()

    def now(self) -> float:
        return self._base + (time.monotonic() - self._read_at) * self.speed

    def advance(self, seconds: float) -> float:
        raise TimeNotControllable(self.why)


def _signed_time(url: str, key: ed25519.Ed25519PublicKey) -> TimeAnswer:
    import requests  # a remote vendor's only: not loaded by a world that never asks one

    request = TimeRequest(nonce=secrets.token_urlsafe(18))
    session = requests.Session()
    session.trust_env = False  # no proxy from the environment between us and the vendor
    try:
        response = session.post(
            url + TIME_PATH,
            data=request.encode(),
            headers={"Content-Type": JSON},
            timeout=SIGNED_TIME_TIMEOUT,
            allow_redirects=False,
        )
        wire = WireResponse(response.status_code, dict(response.headers), response.content)
        if response.status_code != 200:
            raise TimeNotControllable(f"{url} gives no signed time (HTTP {response.status_code})")
        answer = TimeAnswer.decode(wire.body)
        verify_verdict_response(
            wire,
            public_key=key,
            key_id=vendor_key_id(key),
            now=dt.datetime.fromtimestamp(answer.now, dt.UTC),
        )
    except (requests.RequestException, ProtocolError) as exc:
        raise TimeNotControllable(f"{url} gives no valid signed time: {exc}") from exc
    finally:
        session.close()
    if answer.nonce != request.nonce:
        raise TimeNotControllable(f"{url} answered the time of another request")
    return answer


@dataclass(frozen=True)
class SignedTimeSource:
    """Time kept by a vendor that nobody here may move, read from its signed answers."""

    url: str
    vendor_key: Path
    why: str

    def open(self) -> WorldClock:
        return SignedTime(self.url, load_vendor_public_key(self.vendor_key), self.why)


@dataclass(frozen=True)
class SharedFileSource:
    """Time kept in a vendor data directory's ``clock.json`` on this machine."""

    path: Path

    def open(self) -> WorldClock:
        return SharedClock(self.path)


@dataclass(frozen=True)
class AdminApiSource:
    """Time kept by a server of ours, reached with its admin token."""

    url: str
    token: str

    def open(self) -> WorldClock:
        return AdminClock(AdminClient(self.url, self.token))


@dataclass(frozen=True)
class RealTimeSource:
    """Real time, which nobody moves (``why`` says so when someone tries)."""

    why: str = "this world runs on real time"

    def open(self) -> WorldClock:
        return RealTime(self.why)


ClockSource = SharedFileSource | AdminApiSource | SignedTimeSource | RealTimeSource
