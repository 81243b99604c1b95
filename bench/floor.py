"""What benchmark 2's target leaves an activation: its unavoidable cryptography, measured.

Whatever else an activation does, the server verifies one ECDSA P-256 signature over the
request, checks a new device's certificate against its intermediate (one more ECDSA
verification, through X.509), and signs the verdict with Ed25519. These are single calls into
cryptography's compiled code, measured here in-process on this machine, beside the no-op's CPU
per request from the same run: the target (activation rate >= 50 % of the no-op's) allows an
activation at most twice the no-op's CPU, and what that leaves after the stack and these three
calls is the budget for all the rest (reading the request, the RFC 9421 parsing, the policy,
the SQLite transaction, the JSON).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from phone_sim.protocol.identity import chain_from_wire

from .common import kits, per_call_us

#: a verdict's body is about this long
VERDICT_BYTES = 1500


def crypto_floor(calls: int = 2000) -> dict[str, float]:
    """CPU µs of each unavoidable call of one activation, in this process (``calls`` each)."""

    def _cpu_us(call: Callable[[], object]) -> float:
        return per_call_us(call, calls, clock=time.process_time)

    device = ec.generate_private_key(ec.SECP256R1())
    signature_base = b"x" * 400  # an activation's RFC 9421 signature base is about this long
    signature = device.sign(signature_base, ec.ECDSA(hashes.SHA256()))
    public = device.public_key()
    leaf, intermediate = (
        x509.load_der_x509_certificate(der) for der in chain_from_wire(kits(1)[0].certificates)
    )
    vendor = ed25519.Ed25519PrivateKey.generate()
    verdict = b"v" * VERDICT_BYTES
    return {
        "request_signature_us": _cpu_us(
            lambda: public.verify(signature, signature_base, ec.ECDSA(hashes.SHA256()))
        ),
        "leaf_certificate_us": _cpu_us(lambda: leaf.verify_directly_issued_by(intermediate)),
        "verdict_signature_us": _cpu_us(lambda: vendor.sign(verdict)),
    }


def budget_rows(floor: dict[str, float], noop_cpu_us: float) -> list[tuple[str, str]]:
    crypto = sum(floor.values())
    allowed = 2 * noop_cpu_us
    return [
        (
            "unavoidable crypto per activation",
            f"{crypto:.0f} us (request ECDSA verify {floor['request_signature_us']:.0f}, "
            f"leaf certificate {floor['leaf_certificate_us']:.0f}, "
            f"verdict Ed25519 sign {floor['verdict_signature_us']:.0f}; in-process)",
        ),
        (
            "the target's budget",
            f"2 x no-op = {allowed:.0f} us; after the stack ({noop_cpu_us:.0f}) and the crypto: "
            f"{allowed - noop_cpu_us - crypto:.0f} us for everything else",
        ),
    ]
