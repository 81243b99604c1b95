"""Driving a real vendor server the way a phone and an operator do, at the server's own clock.

``TestPhone`` signs each request at the server's current (simulated) time and checks every
verdict's vendor signature before decoding it, exactly as a phone must; ``admin_client`` is the
operator's typed client. Servers run on loopback with a FixedClock the test advances.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import requests

from phone_sim.protocol.clock import ClockMode, FixedClock
from phone_sim.protocol.identity import Factory
from phone_sim.protocol.imei import make_imei
from phone_sim.protocol.keys import load_vendor_public_key, vendor_key_id
from phone_sim.protocol.messages import SimReport, Verdict
from phone_sim.protocol.signing import WireResponse, verify_verdict_response
from server_stub.admin.client import AdminClient
from server_stub.datadir.settings import ServerSettings
from server_stub.runtime.embedded import EmbeddedVendorServer
from tests.support.policies import DAY, HOUR
from tests.support.signed_client import (
    SEPT_2021,
    DeviceIdentity,
    post_activation,
    post_checkin,
    session,
)

__all__ = [
    "CHINA_MOBILE",
    "CUBACEL",
    "DAY",
    "HOUR",
    "SYRIATEL",
    "TELEKOM",
    "Phones",
    "TestPhone",
    "admin_client",
    "advance",
    "now",
    "vendor_server",
]

#: Home operators (MCC-MNC) the tests use, from the story's carrier table.
CUBACEL, TELEKOM, SYRIATEL, CHINA_MOBILE = "368-01", "262-01", "417-01", "460-00"


@contextmanager
def vendor_server(
    tmp_path: Path,
    *,
    policy: str | None = None,
    clock: FixedClock | None = None,
    data: str = "vendor",
) -> Iterator[EmbeddedVendorServer]:
    """A server on loopback whose state is ``tmp_path / data`` (reuse ``data`` to restart)."""
    policy_path = None
    if policy is not None:
        policy_path = tmp_path / f"{data}-policy.toml"
        policy_path.write_text(policy)
    settings = ServerSettings(data_dir=tmp_path / data, policy_path=policy_path, port=0)
    with EmbeddedVendorServer(settings, clock=clock or FixedClock(SEPT_2021)) as server:
        yield server


def now(server: EmbeddedVendorServer) -> int:
    return int(server.clock.now())


def advance(server: EmbeddedVendorServer, seconds: int) -> None:
    clock = server.clock
    assert isinstance(clock, FixedClock)
    clock.advance(seconds)


def verified(server: EmbeddedVendorServer, response: requests.Response) -> Verdict:
    """Check the vendor signature exactly as a phone would, then decode."""
    assert response.status_code == 200, response.text
    public = load_vendor_public_key(server.vendor_public_key_path)
    wire = WireResponse(response.status_code, dict(response.headers), response.content)
    at = dt.datetime.fromtimestamp(now(server), tz=dt.UTC)
    verify_verdict_response(wire, public_key=public, key_id=vendor_key_id(public), now=at)
    return Verdict.decode(response.content)


@dataclass
class TestPhone:
    """A device identity talking to one server; remembers the SIMs it last reported."""

    server: EmbeddedVendorServer
    identity: DeviceIdentity
    sims: tuple[SimReport, ...] = ()
    http: requests.Session = field(default_factory=session)

    __test__ = False  # not a pytest test class

    @property
    def serial(self) -> str:
        return self.identity.claims.serial

    def activate(self, *sims: SimReport) -> Verdict:
        if sims:
            self.sims = sims
        request = self.identity.request(self.sims)
        return verified(
            self.server,
            post_activation(
                self.server.url, self.identity, request, created=now(self.server), http=self.http
            ),
        )

    def checkin(self, *sims: SimReport) -> Verdict:
        """Check in with ``sims`` (or, if none given, the SIMs reported last time)."""
        if sims:
            self.sims = sims
        request = self.identity.request(self.sims)
        return verified(
            self.server,
            post_checkin(
                self.server.url, self.identity, request, created=now(self.server), http=self.http
            ),
        )

    def remove_sims(self) -> None:
        self.sims = ()


class Phones:
    """Issues distinct devices (serials, IMEIs) for one server, even when it is shared."""

    issued: ClassVar[int] = 0

    def __init__(self, factory: Factory, server: EmbeddedVendorServer) -> None:
        self.factory, self.server = factory, server

    def __call__(self, market: str = "MI", model: str = "Redmi Note 10 Pro") -> TestPhone:
        Phones.issued += 1
        self.count = Phones.issued
        identity = DeviceIdentity.issue(
            self.factory,
            serial=f"RN10P{self.count:07d}",
            imeis=(
                make_imei("86753104", 2 * self.count),
                make_imei("86753104", 2 * self.count + 1),
            ),
            model=model,
            market=market,
        )
        return TestPhone(self.server, identity)


def admin_client(server: EmbeddedVendorServer) -> AdminClient:
    return AdminClient(server.url, server.admin_token.value)


def settings_in_a_process(tmp_path: Path, **limits: Any) -> ServerSettings:
    """Settings for a server in its own process (``ServerProcesses``): its clock stands at
    September 2021 in the data directory, since the process cannot take this one's."""
    return ServerSettings(
        data_dir=tmp_path / "vendor",
        port=0,
        clock_mode=ClockMode.SIMULATED,
        clock_start=SEPT_2021,
        clock_speed=0,
        **limits,
    )
