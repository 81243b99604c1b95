"""What a phone keeps: a fleet holds 100,000 of them (docs/decisions/fleet-of-100000.md)."""

from __future__ import annotations

import random
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ed25519

from phone_sim.device.phone import Phone
from phone_sim.device.provisioning import provision
from phone_sim.protocol.clock import FixedClock
from phone_sim.protocol.identity import Factory
from phone_sim.protocol.keys import public_key_pem


def test_phones_given_no_generator_share_the_systems_and_keep_their_own_schedule(
    tmp_path: Path,
) -> None:
    factory = Factory.create()
    vendor = public_key_pem(ed25519.Ed25519PrivateKey.generate().public_key())
    phones = [
        Phone.load(
            provision(tmp_path / f"phone-{n}", factory, vendor, rng=random.Random(n)),
            clock=FixedClock(1630497600.0),
        )
        for n in range(2)
    ]
    first, second = phones
    assert isinstance(first._rng, random.SystemRandom)
    assert first._rng is second._rng  # one for the process: no Mersenne state per phone
    assert first.schedule.rng is not second.schedule.rng  # each its own jitter
