"""A test device: a key and factory certificate, and correctly signed activation and check-in POSTs.

This is a test helper, deliberately separate from the phone's own vendor client: the server's
tests must not depend on the device code they would then be unable to catch out.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import requests
from cryptography.hazmat.primitives.asymmetric import ec

from phone_sim.protocol.contact import ACTIVATION_PATH, CHECKIN_PATH
from phone_sim.protocol.identity import DeviceClaims, Factory, chain_to_wire
from phone_sim.protocol.imei import make_imei
from phone_sim.protocol.messages import ActivationRequest, DeviceReport, SimReport
from phone_sim.protocol.signing import JSON, WireRequest, sign_request

#: 2021-09-01T12:00:00Z, a few days before the reported locks.
SEPT_2021 = 1630497600
TIMEOUT = 10.0


def new_nonce() -> str:
    return secrets.token_urlsafe(18)


def sim(home: str, *, serving: str | None = None, slot: int = 1) -> SimReport:
    """A SIM report from ``"MCC-MNC"`` strings, e.g. ``sim("368-01")``."""
    home_mcc, home_mnc = home.split("-")
    serving_mcc, serving_mnc = serving.split("-") if serving else (None, None)
    return SimReport(
        slot=slot,
        iccid=f"89{home_mcc}{home_mnc:0>3}{slot:011d}",
        home_mcc=home_mcc,
        home_mnc=home_mnc,
        serving_mcc=serving_mcc,
        serving_mnc=serving_mnc,
        roaming=serving is not None and serving != home,
    )


@dataclass(frozen=True)
class DeviceIdentity:
    """A simulated phone as the factory made it: claims, private key and certificate chain."""

    claims: DeviceClaims
    key: ec.EllipticCurvePrivateKey
    chain: list[bytes] = field(repr=False)

    @classmethod
    def issue(
        cls,
        factory: Factory,
        *,
        serial: str = "RN9S21090001",
        imeis: tuple[str, ...] = (make_imei("86781204", 1), make_imei("86781204", 2)),
        model: str = "Redmi Note 9S",
        market: str = "MI",
    ) -> DeviceIdentity:
        claims = DeviceClaims(serial=serial, imeis=imeis, model=model, market=market)
        key = ec.generate_private_key(ec.SECP256R1())
        return cls(claims, key, factory.issue(claims, key.public_key()))

    def request(
        self, sims: Iterable[SimReport] = (), *, nonce: str | None = None, **device: Any
    ) -> ActivationRequest:
        """An activation request; ``device`` overrides what the body claims (serial, imeis...)."""
        report = {
            "serial": self.claims.serial,
            "imeis": list(self.claims.imeis),
            "model": self.claims.model,
            "market": self.claims.market,
            "firmware": "V12.5.1.0.RJOMIXM",
        } | device
        return ActivationRequest(
            device=DeviceReport(**report),
            sims=list(sims),
            nonce=nonce or new_nonce(),
            certificates=chain_to_wire(self.chain),
        )

    def sign(
        self, url: str, body: bytes, *, created: int, nonce: str, key_id: str | None = None
    ) -> WireRequest:
        """A POST of ``body`` (any bytes, even invalid JSON) to ``url``, signed by this device."""
        wire = WireRequest(method="POST", url=url, headers={"Content-Type": JSON}, body=body)
        sign_request(
            wire, key=self.key, key_id=key_id or self.claims.serial, created=created, nonce=nonce
        )
        return wire


def session() -> requests.Session:
    s = requests.Session()
    s.trust_env = False  # a proxy from the environment must not sit between us and loopback
    return s


def send(
    wire: WireRequest, *, http: requests.Session | None = None, body: bytes | None = None
) -> requests.Response:
    """Send a signed request as is, or with ``body`` swapped in after signing."""
    http = http or session()
    return http.post(
        wire.url, data=wire.body if body is None else body, headers=wire.headers, timeout=TIMEOUT
    )


def post_activation(
    base_url: str,
    device: DeviceIdentity,
    request: ActivationRequest,
    *,
    created: int = SEPT_2021,
    http: requests.Session | None = None,
) -> requests.Response:
    """Encode, sign and POST ``request`` to ``base_url``'s activation endpoint."""
    return post_signed(base_url + ACTIVATION_PATH, device, request, created=created, http=http)


def post_checkin(
    base_url: str,
    device: DeviceIdentity,
    request: ActivationRequest,
    *,
    created: int = SEPT_2021,
    http: requests.Session | None = None,
) -> requests.Response:
    """Encode, sign and POST ``request`` to ``base_url``'s check-in endpoint."""
    return post_signed(base_url + CHECKIN_PATH, device, request, created=created, http=http)


def post_signed(
    url: str,
    device: DeviceIdentity,
    request: ActivationRequest,
    *,
    created: int,
    http: requests.Session | None = None,
) -> requests.Response:
    wire = device.sign(url, request.encode(), created=created, nonce=request.nonce)
    return send(wire, http=http)
