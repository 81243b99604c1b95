"""Write (or, with ``--check``, compare) the committed protocol test vectors in this folder.

Run with the project's interpreter from the repository root::

    .venv/bin/python tests/vectors/generate.py            # write what is missing or stale
    .venv/bin/python tests/vectors/generate.py --check    # exit 1 if anything would change

The identity (factory root, device chain, device key, vendor key) is created once and then
read back from the files here, so re-running never changes committed data unless the protocol
code changed. ``--new-identity`` deliberately replaces it (every vector changes).

Every input is fixed: the time (2021-09-01T12:00:00Z), the nonce, the device and the SIM.
Ed25519 is deterministic by design; the device's ECDSA signature is made with RFC 6979
deterministic nonces (any valid ECDSA signature over the same base verifies equally), so both
signatures are reproduced byte for byte. The signature bases are the exact bytes that
``phone_sim.protocol.signing`` handed to the key, captured by ``RecordingKey``
(``recording_keys.py``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # running as a script from anywhere
    sys.path.insert(0, str(ROOT))

from phone_sim.protocol.clock import ClockMode  # noqa: E402
from phone_sim.protocol.identity import (  # noqa: E402
    DeviceClaims,
    Factory,
    FactoryTrust,
    chain_from_wire,
    chain_to_wire,
)
from phone_sim.protocol.imei import make_imei  # noqa: E402
from phone_sim.protocol.keys import private_key_pem, public_key_pem, vendor_key_id  # noqa: E402
from phone_sim.protocol.messages import (  # noqa: E402
    ActivationRequest,
    DeviceReport,
    SimReport,
    Verdict,
    VerdictStatus,
)
from phone_sim.protocol.signing import (  # noqa: E402
    JSON,
    WireRequest,
    WireResponse,
    sign_request,
    sign_verdict_response,
)
from phone_sim.protocol.timesync import TimeAnswer, TimeRequest  # noqa: E402
from tests.vectors.recording_keys import RecordingEd25519Key, RecordingKey  # noqa: E402

HERE = Path(__file__).resolve().parent

#: 2021-09-01T12:00:00Z: the vectors are signed at, and verify at, this instant.
FIXED_TIME = 1630497600
NONCE = "test-vector-nonce-2021-09-01"
URL = "http://127.0.0.1:8421/v1/activation"
CLAIMS = DeviceClaims(
    serial="RN10P2109000001",
    imeis=(make_imei("86753104", 1), make_imei("86753104", 2)),
    model="Redmi Note 10 Pro",
    market="MI",
)
FIRMWARE = "V12.5.1.0.RKFMIXM"
#: A Cubacel (ETECSA, 368-01) SIM at home in slot 1.
SIM = SimReport(
    slot=1,
    iccid="8953010000000000011",
    home_mcc="368",
    home_mnc="01",
    serving_mcc="368",
    serving_mnc="01",
    roaming=False,
)
LOCK_MESSAGE = (
    "Xiaomi policy does not permit sale or provision of the product to the territory in which "
    "you have attempted to activate it. Please contact the retailers directly for additional "
    "information."
)

# File names, in the order they are written.
DEVICE_KEY = "device_key.pem"
VENDOR_KEY = "vendor_key.pem"
VENDOR_PUBLIC = "vendor_public.pem"
ROOT_CERT = "root.pem"
CHAIN = "device_chain.json"
REQUEST = "activation_request.json"
VERDICT = "verdict_response.json"
TIME_REQUEST = "time_request.json"
TIME_ANSWER = "time_answer.json"
#: the time request's nonce (version 2, PROTOCOL.md section 2.1)
TIME_NONCE = "test-vector-time-nonce-2021"
TIME_URL = "http://127.0.0.1:8421/v1/time"


@dataclass(frozen=True)
class Identity:
    """The long-lived inputs, created once and committed."""

    device_key: ec.EllipticCurvePrivateKey
    vendor_key: ed25519.Ed25519PrivateKey
    root_pem: bytes
    chain: list[bytes]


def fixed_now() -> dt.datetime:
    return dt.datetime.fromtimestamp(FIXED_TIME, tz=dt.UTC)


def new_identity() -> Identity:
    factory = Factory.create()
    device_key = ec.generate_private_key(ec.SECP256R1())
    return Identity(
        device_key=device_key,
        vendor_key=ed25519.Ed25519PrivateKey.generate(),
        root_pem=factory.root_cert.public_bytes(serialization.Encoding.PEM),
        chain=factory.issue(CLAIMS, device_key.public_key()),
    )


def load_identity(directory: Path) -> Identity:
    device_key = serialization.load_pem_private_key(
        (directory / DEVICE_KEY).read_bytes(), password=None
    )
    vendor_key = serialization.load_pem_private_key(
        (directory / VENDOR_KEY).read_bytes(), password=None
    )
    assert isinstance(device_key, ec.EllipticCurvePrivateKey)
    assert isinstance(vendor_key, ed25519.Ed25519PrivateKey)
    chain = chain_from_wire(json.loads((directory / CHAIN).read_text())["certificates"])
    return Identity(device_key, vendor_key, (directory / ROOT_CERT).read_bytes(), chain)


def identity_files(identity: Identity) -> dict[str, bytes]:
    return {
        DEVICE_KEY: private_key_pem(identity.device_key),
        VENDOR_KEY: private_key_pem(identity.vendor_key),
        VENDOR_PUBLIC: public_key_pem(identity.vendor_key.public_key()),
        ROOT_CERT: identity.root_pem,
        CHAIN: _json_file({"certificates": chain_to_wire(identity.chain)}),
    }


def activation_request(identity: Identity) -> ActivationRequest:
    return ActivationRequest(
        device=DeviceReport(
            serial=CLAIMS.serial,
            imeis=list(CLAIMS.imeis),
            model=CLAIMS.model,
            market=CLAIMS.market,
            firmware=FIRMWARE,
            bootloader_unlocked=False,
        ),
        sims=[SIM],
        nonce=NONCE,
        certificates=chain_to_wire(identity.chain),
    )


def verdict() -> Verdict:
    return Verdict(
        device_serial=CLAIMS.serial,
        imei=CLAIMS.imeis[0],
        status=VerdictStatus.LOCKED,
        reason="EMBARGOED_TERRITORY",
        message=LOCK_MESSAGE,
        nonce=NONCE,
        issued_at=FIXED_TIME,
        expires_at=FIXED_TIME + 7 * 86400,
        sequence=1,
        policy_version="2021-09-01",
        next_checkin_after=86400,
    )


def signed_request(identity: Identity) -> tuple[WireRequest, bytes]:
    """The signed activation request and the signature base the signer signed."""
    request = WireRequest(
        method="POST",
        url=URL,
        headers={"Content-Type": JSON},
        body=activation_request(identity).encode(),
    )
    key = RecordingKey(identity.device_key)
    sign_request(request, key=key, key_id=CLAIMS.serial, created=FIXED_TIME, nonce=NONCE)
    (base,) = key.signed
    return request, base


def signed_verdict(identity: Identity) -> tuple[WireResponse, bytes]:
    """The signed verdict response and the signature base the signer signed."""
    response = WireResponse(
        status_code=200, headers={"Content-Type": JSON}, body=verdict().encode()
    )
    key = RecordingEd25519Key(identity.vendor_key)
    key_id = vendor_key_id(identity.vendor_key.public_key())
    sign_verdict_response(response, key=key, key_id=key_id, created=FIXED_TIME)
    (base,) = key.signed
    return response, base


def time_request() -> TimeRequest:
    return TimeRequest(nonce=TIME_NONCE)


def time_answer() -> TimeAnswer:
    return TimeAnswer(nonce=TIME_NONCE, now=FIXED_TIME, mode=ClockMode.SIMULATED, speed=0)


def signed_time_answer(identity: Identity) -> tuple[WireResponse, bytes]:
    """The vendor's signed time (version 2) and the signature base the signer signed."""
    response = WireResponse(
        status_code=200, headers={"Content-Type": JSON}, body=time_answer().encode()
    )
    key = RecordingEd25519Key(identity.vendor_key)
    key_id = vendor_key_id(identity.vendor_key.public_key())
    sign_verdict_response(response, key=key, key_id=key_id, created=FIXED_TIME)
    (base,) = key.signed
    return response, base


def vector_files(identity: Identity) -> dict[str, bytes]:
    """Every committed file, as bytes, derived from ``identity``."""
    # The chain must verify at the fixed time, or the vectors would describe a refused request.
    FactoryTrust(x509.load_pem_x509_certificate(identity.root_pem)).verify_chain(
        identity.chain, now=fixed_now()
    )
    request, request_base = signed_request(identity)
    response, verdict_base = signed_verdict(identity)
    files = identity_files(identity)
    files[REQUEST] = _json_file(
        {
            "method": request.method,
            "url": request.url,
            "headers": request.headers,
            "body": request.body.decode(),
            "signature_base": request_base.decode(),
            "verify_at": FIXED_TIME,
        }
    )
    files[VERDICT] = _json_file(
        {
            "status": response.status_code,
            "headers": response.headers,
            "body": response.body.decode(),
            "signature_base": verdict_base.decode(),
            "verify_at": FIXED_TIME,
        }
    )
    time_response, time_base = signed_time_answer(identity)
    files[TIME_REQUEST] = _json_file(
        {
            "method": "POST",
            "url": TIME_URL,
            "headers": {"Content-Type": JSON},
            "body": time_request().encode().decode(),
        }
    )
    files[TIME_ANSWER] = _json_file(
        {
            "status": time_response.status_code,
            "headers": time_response.headers,
            "body": time_response.body.decode(),
            "signature_base": time_base.decode(),
            "verify_at": FIXED_TIME,
        }
    )
    return files


def check(directory: Path = HERE) -> list[str]:
    """Names of the committed files that differ from (or are missing against) a regeneration."""
    try:
        identity = load_identity(directory)
    except FileNotFoundError as exc:
        return [f"{Path(str(exc.filename)).name} (missing)"]
    stale = []
    for name, data in vector_files(identity).items():
        path = directory / name
        if not path.exists() or path.read_bytes() != data:
            stale.append(name)
    return stale


def write(directory: Path = HERE, *, fresh_identity: bool = False) -> list[str]:
    """Write every file that is missing or stale; return the names written."""
    if fresh_identity or not (directory / DEVICE_KEY).exists():
        identity = new_identity()
    else:
        identity = load_identity(directory)
    written = []
    for name, data in vector_files(identity).items():
        path = directory / name
        if not path.exists() or path.read_bytes() != data:
            path.write_bytes(data)
            written.append(name)
    return written


def _json_file(data: object) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--check", action="store_true", help="change nothing; exit 1 if stale")
    group.add_argument(
        "--new-identity",
        action="store_true",
        help="replace the factory, device key and vendor key (every vector changes)",
    )
    args = parser.parse_args(argv)
    if args.check:
        stale = check()
        for name in stale:
            print(f"stale: {name}")
        print("test vectors are up to date" if not stale else "run tests/vectors/generate.py")
        return 1 if stale else 0
    written = write(fresh_identity=args.new_identity)
    for name in written:
        print(f"wrote {name}")
    if not written:
        print("nothing to do: test vectors are up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
