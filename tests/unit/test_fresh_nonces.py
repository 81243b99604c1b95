"""A phone's nonces are fresh even when its identity is seeded (PROTOCOL.md section 4).

Issue #19: a scenario's phones draw serials and IMEIs from a seeded generator, so that a run
is the same from run to run; the nonces came from the same generator, so two runs against one
server sent the same nonces, and the second was refused as a replay.
"""

from __future__ import annotations

import random

from phone_sim.device.phone import Phone
from phone_sim.device.provisioning import new_identity
from phone_sim.protocol.clock import FixedClock


def _phone(seed: str) -> Phone:
    rng = random.Random(seed)
    identity = new_identity("Redmi Note 9", "MI", bootloader_unlocked=False, rng=rng)
    return Phone(identity, [], clock=FixedClock(1630497600), rng=rng)


def test_two_phones_of_one_seed_are_one_device_with_other_nonces() -> None:
    first, second = _phone("0:alice"), _phone("0:alice")
    assert first.identity.serial == second.identity.serial  # the seed still fixes the device
    nonces = [phone._new_nonce() for phone in (first, second) for _ in range(3)]
    assert len(set(nonces)) == len(nonces)
