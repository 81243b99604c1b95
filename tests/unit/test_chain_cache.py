"""The verified-chain cache: a chain verified once is reused, but never beyond what it proved."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from phone_sim.protocol.chain_cache import VerifiedChains, chain_digest
from phone_sim.protocol.errors import CertificateError
from phone_sim.protocol.identity import DeviceClaims, Factory, FactoryTrust
from phone_sim.protocol.imei import make_imei

SEPT_2021 = dt.datetime(2021, 9, 1, 12, 0, 0, tzinfo=dt.UTC)
CLAIMS = DeviceClaims("RN9C2021000001", (make_imei("86488404", 1),), "Redmi 9C", "MI")
FACTORY = Factory.create()
KEY = ec.generate_private_key(ec.SECP256R1())


def test_a_second_verification_of_the_same_chain_is_a_hit() -> None:
    trust = FactoryTrust(FACTORY.root_cert)
    chain = FACTORY.issue(CLAIMS, KEY.public_key())
    first = trust.verify_chain(chain, now=SEPT_2021)
    second = trust.verify_chain(chain, now=SEPT_2021 + dt.timedelta(days=3))
    assert first == second
    assert (trust.verified.hits, trust.verified.misses) == (1, 1)


def test_a_hit_outside_the_certificates_validity_is_verified_again_and_refused() -> None:
    trust = FactoryTrust(FACTORY.root_cert)
    not_before = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    chain = FACTORY.issue(
        CLAIMS, KEY.public_key(), not_before=not_before, validity=dt.timedelta(days=365)
    )
    trust.verify_chain(chain, now=SEPT_2021 - dt.timedelta(days=300))
    with pytest.raises(CertificateError):
        trust.verify_chain(chain, now=SEPT_2021)  # expired since January
    with pytest.raises(CertificateError):
        trust.verify_chain(chain, now=not_before - dt.timedelta(seconds=1))  # not yet valid


def test_failures_are_not_kept_and_a_changed_byte_is_another_chain() -> None:
    trust = FactoryTrust(FACTORY.root_cert)
    chain = FACTORY.issue(CLAIMS, KEY.public_key())
    trust.verify_chain(chain, now=SEPT_2021)
    leaf = bytearray(chain[0])
    leaf[-10] ^= 1  # inside the signature
    with pytest.raises(CertificateError):
        trust.verify_chain([bytes(leaf), chain[1]], now=SEPT_2021)
    with pytest.raises(CertificateError):
        trust.verify_chain([bytes(leaf), chain[1]], now=SEPT_2021)
    assert len(trust.verified) == 1


def test_another_root_does_not_share_the_cache() -> None:
    chain = FACTORY.issue(CLAIMS, KEY.public_key())
    FactoryTrust(FACTORY.root_cert).verify_chain(chain, now=SEPT_2021)
    with pytest.raises(CertificateError):
        FactoryTrust(Factory.create().root_cert).verify_chain(chain, now=SEPT_2021)


def test_the_cache_is_bounded_and_digests_tell_chains_apart() -> None:
    cache: VerifiedChains[int] = VerifiedChains(size=2)
    span = (SEPT_2021, SEPT_2021 + dt.timedelta(days=1))
    for i in range(3):
        cache.put([bytes([i])], i, span)
    assert len(cache) == 2
    assert cache.get([b"\x00"], SEPT_2021) is None  # the oldest went first
    assert cache.get([b"\x02"], SEPT_2021) == 2
    assert chain_digest([b"ab", b"c"]) != chain_digest([b"a", b"bc"])
