"""The verified-chain cache: a chain verified once is reused, but never beyond what it proved."""

from __future__ import annotations

import datetime as dt
import random
import sys
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.verification import ClientVerifier

from phone_sim.protocol.chain_cache import VerifiedChains, chain_digest
from phone_sim.protocol.errors import CertificateError
from phone_sim.protocol.identity import (
    ANCHORS,
    ROOT_VALIDITY,
    DeviceClaims,
    Factory,
    FactoryTrust,
    _ca_certificate,
    _key_usage,
    _name,
)
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


# --- intermediates as anchors ------------------------------------------------------------------


def test_a_new_device_of_a_verified_intermediate_is_checked_against_the_intermediate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    trust = FactoryTrust(FACTORY.root_cert)
    trust.verify_chain(FACTORY.issue(CLAIMS, KEY.public_key()), now=SEPT_2021)
    trusted: list[str] = []  # whom each verifier used trusts
    verifier = FactoryTrust._verifier

    def spy(self: FactoryTrust, anchor: x509.Certificate, at: dt.datetime) -> ClientVerifier:
        trusted.append(anchor.subject.rfc4514_string())
        return verifier(self, anchor, at)

    monkeypatch.setattr(FactoryTrust, "_verifier", spy)
    other = DeviceClaims("RN9C2021000002", (make_imei("86488404", 2),), "Redmi 9C", "MI")
    key = ec.generate_private_key(ec.SECP256R1())
    claims, public = trust.verify_chain(FACTORY.issue(other, key.public_key()), now=SEPT_2021)
    assert (claims, public.public_numbers()) == (other, key.public_key().public_numbers())
    # Accepted by the intermediate alone: the root's verifier was never asked.
    assert trusted == [FACTORY.intermediate_cert.subject.rfc4514_string()]
    assert (trust.anchors.hits, len(trust.anchors)) == (1, 1)


def test_only_an_intermediate_on_the_verified_path_becomes_an_anchor() -> None:
    # A leaf issued by the root itself verifies without the second certificate it came with;
    # that certificate (anyone's CA) must not become trusted for having travelled along.
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = _ca_certificate("root", root_key, _name("root"), root_key, ROOT_VALIDITY, 1)
    by_root = Factory(root, root, root_key).issue(CLAIMS, KEY.public_key())[0]
    stranger = Factory.create()
    trust = FactoryTrust(root)
    trust.verify_chain([by_root, stranger.issue(CLAIMS, KEY.public_key())[1]], now=SEPT_2021)
    assert len(trust.anchors) == 0
    with pytest.raises(CertificateError, match="does not chain"):
        trust.verify_chain(stranger.issue(CLAIMS, KEY.public_key()), now=SEPT_2021)


def test_an_anchor_is_not_used_once_its_intermediate_has_expired() -> None:
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = _ca_certificate("root", root_key, _name("root"), root_key, ROOT_VALIDITY, 1)
    line_key = ec.generate_private_key(ec.SECP256R1())
    five_years = dt.timedelta(days=5 * 365)
    line = _ca_certificate("line", line_key, root.subject, root_key, five_years, 0)
    factory = Factory(root, line, line_key)
    assert line.not_valid_after_utc < SEPT_2021
    trust = FactoryTrust(root)
    trust.verify_chain(factory.issue(CLAIMS, KEY.public_key()), now=SEPT_2021 - five_years)
    assert len(trust.anchors) == 1
    late = factory.issue(CLAIMS, ec.generate_private_key(ec.SECP256R1()).public_key())
    with pytest.raises(CertificateError, match="does not chain"):
        trust.verify_chain(late, now=SEPT_2021)
    assert trust.anchors.hits == 0


def test_no_anchor_under_a_root_that_constrains_names() -> None:
    # The anchored path trusts the intermediate alone, so it would not apply a root's name
    # constraints to the leaf: under such a root every chain takes the whole path.
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = (
        x509.CertificateBuilder()
        .subject_name(_name("constrained root"))
        .issuer_name(_name("constrained root"))
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(SEPT_2021 - dt.timedelta(days=365))
        .not_valid_after(SEPT_2021 + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), False)
        .add_extension(x509.NameConstraints([x509.DNSName("good.example")], None), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    line_key = ec.generate_private_key(ec.SECP256R1())
    line = _ca_certificate("line", line_key, root.subject, root_key, ROOT_VALIDITY, 0)
    factory = Factory(root, line, line_key)

    def leaf(host: str) -> list[bytes]:
        chain = factory.issue(CLAIMS, KEY.public_key(), not_before=SEPT_2021 - dt.timedelta(1))
        cert = x509.load_der_x509_certificate(chain[0])
        builder = (
            x509.CertificateBuilder()
            .subject_name(cert.subject)
            .issuer_name(cert.issuer)
            .public_key(KEY.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(cert.not_valid_before_utc)
            .not_valid_after(cert.not_valid_after_utc)
        )
        for extension in cert.extensions:
            builder = builder.add_extension(extension.value, extension.critical)
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), False)
        return [builder.sign(line_key, hashes.SHA256()).public_bytes(Encoding.DER), chain[1]]

    trust = FactoryTrust(root)
    trust.verify_chain(leaf("good.example"), now=SEPT_2021)
    assert len(trust.anchors) == 0
    with pytest.raises(CertificateError, match="does not chain"):
        trust.verify_chain(leaf("evil.example"), now=SEPT_2021)


# --- one FactoryTrust, many threads ------------------------------------------------------------


def _outcome(trust: FactoryTrust, chain: list[bytes], at: dt.datetime) -> object:
    try:
        claims, public = trust.verify_chain(chain, now=at)
    except CertificateError as exc:
        return type(exc).__name__
    return claims, public.public_numbers()


def test_one_trust_verifies_from_many_threads_as_from_one() -> None:
    """The server's thread pool shares one FactoryTrust: every answer from 16 threads at once
    is the one-thread answer, and every cache keeps its bound and its count."""
    keys = [ec.generate_private_key(ec.SECP256R1()) for _ in range(6)]
    claims = [
        DeviceClaims(f"RN9C20210001{n:02d}", (make_imei("86488404", 10 + n),), "Redmi 9C", "MI")
        for n in range(6)
    ]
    chains = [FACTORY.issue(c, k.public_key()) for c, k in zip(claims, keys, strict=True)]
    tampered = bytearray(chains[0][0])
    tampered[-10] ^= 1
    chains += [[bytes(tampered), chains[0][1]], Factory.create().issue(CLAIMS, KEY.public_key())]
    # Many instants: the verifier cache is keyed by the time and is cleared when it fills.
    instants = [SEPT_2021 + dt.timedelta(seconds=97 * n) for n in range(80)]
    work = [(c, t) for c in range(len(chains)) for t in range(len(instants))]
    single = FactoryTrust(FACTORY.root_cert)
    expected = {(c, t): _outcome(single, chains[c], instants[t]) for c, t in work}
    assert sum(isinstance(o, str) for o in expected.values()) == 2 * len(instants)

    shared = FactoryTrust(FACTORY.root_cert)
    start = threading.Barrier(16)
    wrong: list[tuple[int, int, object]] = []
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as the interpreter can
    try:

        def verify(seed: int) -> None:
            order = random.Random(seed).sample(work, len(work))
            start.wait()
            for c, t in order:
                got = _outcome(shared, chains[c], instants[t])
                if got != expected[(c, t)]:
                    wrong.append((c, t, got))

        threads = [threading.Thread(target=verify, args=(seed,)) for seed in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(before)
    assert wrong == []
    assert shared.verified.hits + shared.verified.misses == 16 * len(work)
    assert len(shared.verified) <= len(chains) and len(shared.anchors) == 1
    assert len(shared._verifiers) <= ANCHORS
