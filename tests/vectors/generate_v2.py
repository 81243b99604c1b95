"""Write (or, with ``--check``, compare) the version 2 vectors: warnings, the account lock, codes.

Run with the project's interpreter from the repository root::

    .venv/bin/python tests/vectors/generate_v2.py            # write what is missing or stale
    .venv/bin/python tests/vectors/generate_v2.py --check    # exit 1 if anything would change

The same committed identity as ``generate.py`` (whose files this script reads and never writes):
the device of the worked example, reset after signing in to ``alice@example.com`` with Find
Device on, asks to activate in version 2 and is answered ``ACCOUNT_LOCKED`` with the vendor's
agreement key; it then lifts the lock with the password, sealed under its own key; and the
vendor's operator makes the unblock code for a challenge. Every step is deterministic: ECDH
and HKDF are, AES-GCM's nonce comes from the request nonce, Ed25519 is, and the device's ECDSA
signatures use RFC 6979 nonces (``generate.RecordingKey``).

Beside it, a second exchange (``v2_warning_*``): the same device, with a Cuban SIM, asks to
activate in version 2 under a policy that delays the lock three days, warns two days and one
day ahead and gives lock-screen contact details (PROTOCOL.md 7.2); the verdict carries them and
the agreement key every version 2 verdict carries.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # running as a script from anywhere
    sys.path.insert(0, str(ROOT))
HERE = Path(__file__).resolve().parent

from phone_sim.protocol.account import (  # noqa: E402
    ACCOUNT_LOCK_MESSAGE,
    ACCOUNT_LOCKED_REASON,
    AccountAction,
)
from phone_sim.protocol.account_request import AccountBody, AccountRequest  # noqa: E402
from phone_sim.protocol.device_secret import (  # noqa: E402
    DeviceSecret,
    UnblockPurpose,
    encode_agreement_key,
    seal_password,
    unblock_code,
    vendor_agreement_key,
)
from phone_sim.protocol.keys import vendor_key_id  # noqa: E402
from phone_sim.protocol.lock_screen import LockWarning  # noqa: E402
from phone_sim.protocol.messages import AccountStatus, Verdict, VerdictStatus  # noqa: E402
from phone_sim.protocol.signing import (  # noqa: E402
    JSON,
    WireRequest,
    WireResponse,
    sign_request,
    sign_verdict_response,
)


def _load_v1() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "phone_sim_vectors_generate", HERE / "generate.py"
    )
    assert spec is not None and spec.loader is not None
    module = sys.modules.get(spec.name) or importlib.util.module_from_spec(spec)
    if spec.name not in sys.modules:
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    return module


v1 = _load_v1()

BASE = "http://127.0.0.1:8421"
ACTIVATION_NONCE = "test-vector-nonce-v2-activation"
ACCOUNT_NONCE = "test-vector-nonce-v2-account"
#: one minute after the activation was answered
ACCOUNT_TIME = v1.FIXED_TIME + 60
ACCOUNT = "alice@example.com"
PASSWORD = "correct-horse-9"
#: the challenge the lock screen shows (the date of the release, 13 Sept 2021)
CHALLENGE = "20210913"

ACTIVATION = "v2_activation_request.json"
VERDICT = "v2_verdict_response.json"
ACCOUNT_REQUEST = "v2_account_request.json"
SECRETS = "v2_device_secret.json"
WARNING_REQUEST = "v2_warning_request.json"
WARNING_VERDICT = "v2_warning_verdict.json"
#: the warning exchange's nonce, its own so that a server can accept both requests
WARNING_NONCE = "test-vector-nonce-2021-09-01-v2"
DAY = 86400


def secret(identity: Any) -> DeviceSecret:
    """The device's secret as the phone makes it (its key, the vendor's agreement key)."""
    agreement = encode_agreement_key(vendor_agreement_key(identity.vendor_key).public_key())
    return DeviceSecret.on_phone(identity.device_key, agreement, v1.CLAIMS.serial)


def activation_request(identity: Any) -> tuple[WireRequest, bytes]:
    body = v1.activation_request(identity).model_copy(
        update={"protocol": 2, "nonce": ACTIVATION_NONCE}
    )
    return _signed(identity, "/v1/activation", body.encode(), v1.FIXED_TIME, ACTIVATION_NONCE)


def verdict(identity: Any) -> Verdict:
    agreement = vendor_agreement_key(identity.vendor_key)
    return Verdict(
        protocol=2,
        device_serial=v1.CLAIMS.serial,
        imei=v1.CLAIMS.imeis[0],
        status=VerdictStatus.LOCKED,
        reason=ACCOUNT_LOCKED_REASON,
        message=ACCOUNT_LOCK_MESSAGE,
        nonce=ACTIVATION_NONCE,
        issued_at=v1.FIXED_TIME,
        expires_at=v1.FIXED_TIME + 7 * 86400,
        sequence=2,
        policy_version="2021-09-01",
        next_checkin_after=86400,
        agreement_key=encode_agreement_key(agreement.public_key()),
        account=AccountStatus(hint="a***@example.com", find_device=True, locked=True),
    )


def warning_request(identity: Any) -> tuple[WireRequest, bytes]:
    body = v1.activation_request(identity).model_copy(
        update={"protocol": 2, "nonce": WARNING_NONCE}
    )
    return _signed(identity, "/v1/activation", body.encode(), v1.FIXED_TIME, WARNING_NONCE)


def warning_verdict(identity: Any) -> Verdict:
    """The Cuban phone activated, its lock due in three days, with the plan to warn ahead."""
    lock_at = v1.FIXED_TIME + 3 * DAY
    return Verdict(
        protocol=2,
        device_serial=v1.CLAIMS.serial,
        imei=v1.CLAIMS.imeis[0],
        status=VerdictStatus.ACTIVATED,
        reason="ACTIVATION_OK",
        message="Your device has been activated.",
        nonce=WARNING_NONCE,
        issued_at=v1.FIXED_TIME,
        expires_at=v1.FIXED_TIME + 7 * DAY,
        sequence=1,
        policy_version="2021-09-01",
        next_checkin_after=DAY,
        agreement_key=encode_agreement_key(vendor_agreement_key(identity.vendor_key).public_key()),
        contact_phone="+86 400 100 5678",
        contact_email="service.global@xiaomi.example",
        lock_warning=LockWarning(
            lock_at=lock_at,
            notice_at=lock_at - 2 * DAY,
            notice="This device will be locked in two days. Please contact the retailer.",
            reminder_at=lock_at - DAY,
            reminder="This device will be locked tomorrow. Back up your data now.",
        ),
    )


def account_request(identity: Any) -> tuple[WireRequest, bytes]:
    base = v1.activation_request(identity)
    sealed = seal_password(
        secret(identity), PASSWORD, action="unlock", account=ACCOUNT, nonce=ACCOUNT_NONCE
    )
    body = AccountRequest(
        **(base.model_dump() | {"protocol": 2, "nonce": ACCOUNT_NONCE}),
        account=AccountBody(action=AccountAction.UNLOCK, name=ACCOUNT, password=sealed),
    )
    return _signed(identity, "/v1/account", body.encode(), ACCOUNT_TIME, ACCOUNT_NONCE)


def _signed(
    identity: Any, path: str, body: bytes, created: int, nonce: str
) -> tuple[WireRequest, bytes]:
    """The signed request and the signature base the device key signed."""
    request = WireRequest("POST", BASE + path, {"Content-Type": JSON}, body)
    key = v1.RecordingKey(identity.device_key)
    sign_request(request, key=key, key_id=v1.CLAIMS.serial, created=created, nonce=nonce)
    (base,) = key.signed
    return request, base


def _verdict_file(identity: Any, answer: Verdict) -> bytes:
    """The signed verdict response, with the signature base the vendor key signed."""
    response = WireResponse(200, {"Content-Type": JSON}, answer.encode())
    vendor = v1.RecordingEd25519Key(identity.vendor_key)
    key_id = vendor_key_id(identity.vendor_key.public_key())
    sign_verdict_response(response, key=vendor, key_id=key_id, created=v1.FIXED_TIME)
    (verdict_base,) = vendor.signed
    return v1._json_file(
        {
            "status": response.status_code,
            "headers": response.headers,
            "body": response.body.decode(),
            "signature_base": verdict_base.decode(),
            "verify_at": v1.FIXED_TIME,
        }
    )


def vector_files(identity: Any) -> dict[str, bytes]:
    activation = activation_request(identity)
    account = account_request(identity)
    made = secret(identity)
    shared = identity.device_key.exchange(
        ec.ECDH(), vendor_agreement_key(identity.vendor_key).public_key()
    )
    return {
        ACTIVATION: _request_file(*activation, v1.FIXED_TIME),
        VERDICT: _verdict_file(identity, verdict(identity)),
        ACCOUNT_REQUEST: _request_file(*account, ACCOUNT_TIME),
        SECRETS: v1._json_file(
            {
                "serial": v1.CLAIMS.serial,
                "agreement_key": verdict(identity).agreement_key,
                "shared_secret_hex": shared.hex(),
                "unblock_key_hex": made.unblock_key.hex(),
                "password_key_hex": made.password_key.hex(),
                "account": ACCOUNT,
                "password": PASSWORD,
                "account_nonce": ACCOUNT_NONCE,
                "sealed_password": AccountRequest.decode(account[0].body).account.password,
                "challenge": CHALLENGE,
                "purpose": UnblockPurpose.RELEASE.value,
                "unblock_code": unblock_code(made, CHALLENGE),
            }
        ),
        WARNING_REQUEST: _request_file(*warning_request(identity), v1.FIXED_TIME),
        WARNING_VERDICT: _verdict_file(identity, warning_verdict(identity)),
    }


def _request_file(request: WireRequest, base: bytes, at: int) -> bytes:
    return v1._json_file(
        {
            "method": request.method,
            "url": request.url,
            "headers": request.headers,
            "body": request.body.decode(),
            "signature_base": base.decode(),
            "verify_at": at,
        }
    )


def check(directory: Path = HERE) -> list[str]:
    """Names of the committed version 2 files that differ from a regeneration (or are missing)."""
    files = vector_files(v1.load_identity(directory))
    return [
        n
        for n, data in files.items()
        if not (directory / n).exists() or (directory / n).read_bytes() != data
    ]


def write(directory: Path = HERE) -> list[str]:
    written = []
    for name, data in vector_files(v1.load_identity(directory)).items():
        path = directory / name
        if not path.exists() or path.read_bytes() != data:
            path.write_bytes(data)
            written.append(name)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if stale")
    args = parser.parse_args(argv)
    if args.check:
        stale = check()
        for name in stale:
            print(f"stale: {name}")
        print(
            "version 2 vectors are up to date" if not stale else "run tests/vectors/generate_v2.py"
        )
        return 1 if stale else 0
    written = write()
    for name in written:
        print(f"wrote {name}")
    if not written:
        print("nothing to do: version 2 vectors are up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
