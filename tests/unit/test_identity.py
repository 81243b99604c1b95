"""Device identity (factory CA, certificate chain, claims), keys, sign-then-verify properties."""

from __future__ import annotations

import base64
import datetime as dt
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from hypothesis import given, settings
from hypothesis import strategies as st

from phone_sim.protocol.errors import CertificateError, SignatureError
from phone_sim.protocol.identity import (
    DEVICE_CLAIMS_OID,
    DeviceClaims,
    Factory,
    FactoryTrust,
    chain_from_wire,
    chain_to_wire,
)
from phone_sim.protocol.imei import make_imei
from phone_sim.protocol.keys import (
    load_private_key,
    load_vendor_public_key,
    public_key_pem,
    vendor_key_id,
    write_private_key,
)
from phone_sim.protocol.signing import (
    MAX_REQUEST_SKEW,
    WireRequest,
    WireResponse,
    sign_request,
    sign_verdict_response,
    verify_request,
    verify_verdict_response,
)

SEPT_2021 = dt.datetime(2021, 9, 1, 12, 0, 0, tzinfo=dt.UTC)
CLAIMS = DeviceClaims(
    serial="RN9S2021000042",
    imeis=(make_imei("86412305", 42), make_imei("86412305", 43)),
    model="Redmi Note 9S",
    market="EU",
)
# One factory and one device key for the whole module: creating keys is the slow part.
FACTORY = Factory.create()
DEVICE_KEY = ec.generate_private_key(ec.SECP256R1())
CHAIN = FACTORY.issue(CLAIMS, DEVICE_KEY.public_key())
VENDOR_KEY = ed25519.Ed25519PrivateKey.generate()
VENDOR_KEY_ID = vendor_key_id(VENDOR_KEY.public_key())


# --- the chain ---------------------------------------------------------------------------------


@pytest.fixture(params=["fresh", "anchored"])
def trust(request: pytest.FixtureRequest) -> FactoryTrust:
    """Every chain test twice: a verifier that has seen nothing, and one that has already
    verified another device of the same intermediate (whose leaves it then checks against the
    intermediate alone: an acceptance there must be exactly what the whole path would accept)."""
    trust = FactoryTrust(FACTORY.root_cert)
    if request.param == "anchored":
        other = DeviceClaims("RN9S2021000099", (make_imei("86412305", 99),), "Redmi Note 9S", "EU")
        trust.verify_chain(FACTORY.issue(other, DEVICE_KEY.public_key()), now=SEPT_2021)
        assert len(trust.anchors) == 1
    return trust


def test_chain_verifies_and_yields_claims_and_key(trust: FactoryTrust) -> None:
    claims, public = trust.verify_chain(CHAIN, now=SEPT_2021)
    assert claims == CLAIMS
    assert public.public_numbers() == DEVICE_KEY.public_key().public_numbers()


def test_chain_is_leaf_then_intermediate() -> None:
    leaf, intermediate = (x509.load_der_x509_certificate(der) for der in CHAIN)
    assert leaf.issuer == intermediate.subject == FACTORY.intermediate_cert.subject
    assert intermediate.issuer == FACTORY.root_cert.subject
    assert leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    claims = leaf.extensions.get_extension_for_oid(DEVICE_CLAIMS_OID)
    assert claims.oid.dotted_string == "1.3.6.1.4.1.57264.7.1"
    assert not claims.critical
    assert isinstance(claims.value, x509.UnrecognizedExtension)
    assert claims.value.value == CLAIMS.to_json()


def test_claims_extension_holds_canonical_json() -> None:
    assert CLAIMS.to_json() == (
        b'{"imeis":["864123050000426","864123050000434"],"market":"EU",'
        b'"model":"Redmi Note 9S","serial":"RN9S2021000042"}'
    )
    assert DeviceClaims.from_json(CLAIMS.to_json()) == CLAIMS


def test_chain_verifies_on_todays_wall_clock_too(trust: FactoryTrust) -> None:
    # Regression: device certificates once expired on 2025-01-01, so a phone run on the real
    # clock could not activate.
    trust.verify_chain(CHAIN, now=dt.datetime.now(dt.UTC))


def test_chain_travels_as_base64_der() -> None:
    wire = chain_to_wire(CHAIN)
    assert wire == [base64.b64encode(der).decode() for der in CHAIN]
    assert chain_from_wire(wire) == CHAIN
    with pytest.raises(CertificateError, match="base64"):
        chain_from_wire(["not base64!"])


def test_another_factorys_chain_is_refused(trust: FactoryTrust) -> None:
    other = Factory.create()
    foreign = other.issue(CLAIMS, DEVICE_KEY.public_key())
    with pytest.raises(CertificateError, match="does not chain"):
        trust.verify_chain(foreign, now=SEPT_2021)
    # Nor does mixing: our leaf with their intermediate, or theirs with ours.
    with pytest.raises(CertificateError):
        trust.verify_chain([CHAIN[0], foreign[1]], now=SEPT_2021)
    with pytest.raises(CertificateError):
        trust.verify_chain([foreign[0], CHAIN[1]], now=SEPT_2021)


def test_chain_without_its_intermediate_is_refused(trust: FactoryTrust) -> None:
    with pytest.raises(CertificateError):
        trust.verify_chain(CHAIN[:1], now=SEPT_2021)


def test_an_intermediate_presented_as_a_device_is_refused(trust: FactoryTrust) -> None:
    with pytest.raises(CertificateError):
        trust.verify_chain([CHAIN[1]], now=SEPT_2021)


@pytest.mark.parametrize("chain", [[], [b"x"] * 4])
def test_chain_length_is_checked(chain: list[bytes], trust: FactoryTrust) -> None:
    with pytest.raises(CertificateError, match="chain must hold"):
        trust.verify_chain(chain, now=SEPT_2021)


def test_garbage_der_is_refused(trust: FactoryTrust) -> None:
    with pytest.raises(CertificateError, match="DER"):
        trust.verify_chain([b"\x30\x03junk", CHAIN[1]], now=SEPT_2021)


def test_an_unknown_certificate_version_is_a_certificate_error(trust: FactoryTrust) -> None:
    # Regression: cryptography raises InvalidVersion (not a ValueError) for it, which escaped.
    v3 = b"\xa0\x03\x02\x01\x02"
    assert CHAIN[0].count(v3) == 1
    with pytest.raises(CertificateError, match="DER"):
        trust.verify_chain([CHAIN[0].replace(v3, v3[:-1] + b"\x03"), CHAIN[1]], now=SEPT_2021)


def test_expired_certificate_is_refused(trust: FactoryTrust) -> None:
    chain = FACTORY.issue(
        CLAIMS,
        DEVICE_KEY.public_key(),
        not_before=dt.datetime(2016, 1, 1, tzinfo=dt.UTC),
        validity=dt.timedelta(days=365),
    )
    trust.verify_chain(chain, now=dt.datetime(2016, 6, 1, tzinfo=dt.UTC))
    with pytest.raises(CertificateError, match="not valid at validation time"):
        trust.verify_chain(chain, now=SEPT_2021)


def test_not_yet_valid_certificate_is_refused(trust: FactoryTrust) -> None:
    chain = FACTORY.issue(
        CLAIMS, DEVICE_KEY.public_key(), not_before=dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    )
    with pytest.raises(CertificateError):
        trust.verify_chain(chain, now=SEPT_2021)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b"RN9S2021000042", b"RN9S2021000043"),  # serial (also in the subject name)
        (b"864123050000426", b"864123050000434"),  # an IMEI, still a valid one
        (b'"market":"EU"', b'"market":"CN"'),
    ],
)
def test_tampered_claims_are_refused(old: bytes, new: bytes, trust: FactoryTrust) -> None:
    leaf = CHAIN[0]
    assert old in leaf
    tampered = leaf.replace(old, new)
    with pytest.raises(CertificateError):
        trust.verify_chain([tampered, CHAIN[1]], now=SEPT_2021)


def test_every_signed_byte_of_the_device_certificate_matters(trust: FactoryTrust) -> None:
    leaf = CHAIN[0]
    parsed = x509.load_der_x509_certificate(leaf)
    # Every byte the intermediate signed (the TBSCertificate), and every byte of the signature.
    # (The BIT STRING's unused-bits octet is neither: the parser ignores it, and the
    # certificate it yields is unchanged.)
    tbs_start = leaf.index(parsed.tbs_certificate_bytes)
    signed = range(tbs_start, tbs_start + len(parsed.tbs_certificate_bytes))
    signature_start = leaf.rindex(parsed.signature)
    positions = [*signed, *range(signature_start, len(leaf))]
    for i in positions:
        tampered = bytearray(leaf)
        tampered[i] ^= 0x01
        with pytest.raises(CertificateError):
            trust.verify_chain([bytes(tampered), CHAIN[1]], now=SEPT_2021)


def test_certified_claims_must_carry_valid_imeis(trust: FactoryTrust) -> None:
    bad = DeviceClaims(serial="X0001", imeis=("490154203237519",), model="M", market="MI")
    chain = FACTORY.issue(bad, DEVICE_KEY.public_key())
    with pytest.raises(CertificateError, match="invalid IMEI"):
        trust.verify_chain(chain, now=SEPT_2021)


@pytest.mark.parametrize(
    "raw",
    [b"not json", b"{}", b'{"serial":"X","imeis":[],"model":"M","market":"MI"}', b"[]"],
)
def test_malformed_claims_are_refused(raw: bytes) -> None:
    with pytest.raises(CertificateError):
        DeviceClaims.from_json(raw)


def test_device_key_must_be_p256(trust: FactoryTrust) -> None:
    p384 = ec.generate_private_key(ec.SECP384R1())
    chain = FACTORY.issue(CLAIMS, p384.public_key())
    with pytest.raises(CertificateError, match="P-256"):
        trust.verify_chain(chain, now=SEPT_2021)


def test_factory_save_and_open(tmp_path: Path) -> None:
    first = Factory.open(tmp_path / "factory")
    again = Factory.open(tmp_path / "factory")
    assert again.root_cert == first.root_cert
    assert stat.S_IMODE((tmp_path / "factory" / "intermediate.key").stat().st_mode) == 0o600
    # The reopened factory issues chains the saved root accepts.
    chain = again.issue(CLAIMS, DEVICE_KEY.public_key())
    trust = FactoryTrust.load(tmp_path / "factory" / "root.pem")
    assert trust.verify_chain(chain, now=SEPT_2021)[0] == CLAIMS


# --- keys ----------------------------------------------------------------------------------------


def test_private_keys_are_written_0600_and_read_back(tmp_path: Path) -> None:
    for key in (DEVICE_KEY, VENDOR_KEY):
        path = tmp_path / "keys" / f"{type(key).__name__}.pem"
        write_private_key(path, key)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        loaded = load_private_key(path)
        assert loaded.public_key() == key.public_key()


def test_vendor_public_key_must_be_ed25519(tmp_path: Path) -> None:
    good, bad = tmp_path / "vendor.pem", tmp_path / "device.pem"
    good.write_bytes(public_key_pem(VENDOR_KEY.public_key()))
    bad.write_bytes(public_key_pem(DEVICE_KEY.public_key()))
    assert load_vendor_public_key(good) == VENDOR_KEY.public_key()
    with pytest.raises(ValueError, match="Ed25519"):
        load_vendor_public_key(bad)


def test_vendor_key_id_format() -> None:
    assert VENDOR_KEY_ID.startswith("vendor-")
    suffix = VENDOR_KEY_ID.removeprefix("vendor-")
    assert len(suffix) == 16 and all(c in "0123456789abcdef" for c in suffix)
    other = vendor_key_id(ed25519.Ed25519PrivateKey.generate().public_key())
    assert other != VENDOR_KEY_ID


def test_a_keyid_other_than_the_expected_one_is_refused_by_name() -> None:
    request = WireRequest("POST", "http://vendor.test/v1/activation", {}, b"{}")
    sign_request(request, key=DEVICE_KEY, key_id="RN9OTHER", created=0, nonce="n" * 16)
    with pytest.raises(SignatureError, match="keyid 'RN9OTHER' is not the expected"):
        verify_request(
            request,
            public_key=DEVICE_KEY.public_key(),
            key_id=CLAIMS.serial,
            now=dt.datetime.fromtimestamp(0, tz=dt.UTC),
        )


# --- sign-then-verify properties -----------------------------------------------------------------

bodies = st.binary(min_size=1, max_size=512)
nonces = st.from_regex(r"[A-Za-z0-9_-]{16,64}", fullmatch=True)
# Unix seconds from 2001 to 2286: the structured-field integer range is far wider.
times = st.integers(1_000_000_000, 9_999_999_999)
skews = st.integers(-int(MAX_REQUEST_SKEW.total_seconds()), int(MAX_REQUEST_SKEW.total_seconds()))
paths = st.sampled_from(["/v1/activation", "/v1/checkin"])


def _at(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)


@pytest.mark.slow
@settings(max_examples=60)
@given(body=bodies, nonce=nonces, created=times, skew=skews, path=paths)
def test_a_signed_request_always_verifies(
    body: bytes, nonce: str, created: int, skew: int, path: str
) -> None:
    request = WireRequest("POST", f"http://127.0.0.1:8421{path}", {}, body)
    sign_request(request, key=DEVICE_KEY, key_id=CLAIMS.serial, created=created, nonce=nonce)
    result = verify_request(
        request, public_key=DEVICE_KEY.public_key(), key_id=CLAIMS.serial, now=_at(created + skew)
    )
    assert (result.created, result.nonce, result.key_id) == (created, nonce, CLAIMS.serial)


@settings(max_examples=60)
@given(body=bodies, nonce=nonces, created=times, data=st.data())
def test_any_single_byte_change_of_a_request_body_fails(
    body: bytes, nonce: str, created: int, data: st.DataObject
) -> None:
    request = WireRequest("POST", "http://127.0.0.1:8421/v1/activation", {}, body)
    sign_request(request, key=DEVICE_KEY, key_id=CLAIMS.serial, created=created, nonce=nonce)
    position = data.draw(st.integers(0, len(body) - 1), label="position")
    flip = data.draw(st.integers(1, 255), label="xor")
    tampered = bytearray(body)
    tampered[position] ^= flip
    request.body = bytes(tampered)
    with pytest.raises(SignatureError) as info:
        verify_request(
            request, public_key=DEVICE_KEY.public_key(), key_id=CLAIMS.serial, now=_at(created)
        )
    assert type(info.value) is SignatureError


@settings(max_examples=60)
@given(body=bodies, created=times, status=st.sampled_from([200, 403, 409]))
def test_a_signed_verdict_always_verifies(body: bytes, created: int, status: int) -> None:
    response = WireResponse(status, {"Content-Type": "application/json"}, body)
    sign_verdict_response(response, key=VENDOR_KEY, key_id=VENDOR_KEY_ID, created=created)
    result = verify_verdict_response(
        response, public_key=VENDOR_KEY.public_key(), key_id=VENDOR_KEY_ID, now=_at(created)
    )
    assert result.created == created


@settings(max_examples=60)
@given(body=bodies, created=times, data=st.data())
def test_any_single_byte_change_of_a_verdict_body_fails(
    body: bytes, created: int, data: st.DataObject
) -> None:
    response = WireResponse(200, {"Content-Type": "application/json"}, body)
    sign_verdict_response(response, key=VENDOR_KEY, key_id=VENDOR_KEY_ID, created=created)
    position = data.draw(st.integers(0, len(body) - 1), label="position")
    tampered = bytearray(body)
    tampered[position] ^= data.draw(st.integers(1, 255), label="xor")
    response.body = bytes(tampered)
    with pytest.raises(SignatureError) as info:
        verify_verdict_response(
            response, public_key=VENDOR_KEY.public_key(), key_id=VENDOR_KEY_ID, now=_at(created)
        )
    assert type(info.value) is SignatureError


def test_signing_twice_replaces_the_digest_and_signature() -> None:
    # A retried request is re-signed with a new nonce; the old headers must not linger.
    request = WireRequest("POST", "http://127.0.0.1:8421/v1/activation", {}, b'{"a":1}')
    sign_request(
        request, key=DEVICE_KEY, key_id=CLAIMS.serial, created=100, nonce="first-nonce-0001"
    )
    request.body = b'{"a":2}'
    sign_request(
        request, key=DEVICE_KEY, key_id=CLAIMS.serial, created=101, nonce="second-nonce-002"
    )
    assert sorted(request.headers) == ["Content-Digest", "Signature", "Signature-Input"]
    result = verify_request(
        request, public_key=DEVICE_KEY.public_key(), key_id=CLAIMS.serial, now=_at(101)
    )
    assert result.nonce == "second-nonce-002"


def test_public_key_pem_round_trips() -> None:
    pem = public_key_pem(DEVICE_KEY.public_key())
    assert serialization.load_pem_public_key(pem) == DEVICE_KEY.public_key()
