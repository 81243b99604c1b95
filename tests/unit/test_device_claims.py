"""The device claims extension holds exactly the specified keys, once each; the device
certificate's name fits X.509's bounds for any device the protocol admits (version 2)."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from phone_sim.protocol.claims import UB_COMMON_NAME, device_common_name
from phone_sim.protocol.errors import CertificateError
from phone_sim.protocol.identity import DEVICE_CLAIMS_OID, EPOCH, DeviceClaims, Factory
from phone_sim.protocol.imei import make_imei
from phone_sim.protocol.messages import DeviceReport

SEPT_2021 = dt.datetime(2021, 9, 1, 12, 0, 0, tzinfo=dt.UTC)
FACTORY = Factory.create()
KEY = ec.generate_private_key(ec.SECP256R1())
IMEI = make_imei("86412305", 42)
GOOD = (
    b'{"imeis":["' + IMEI.encode() + b'"],"market":"EU","model":"Redmi Note 9S","serial":"X0001"}'
)


def _leaf_with_extension(value: bytes) -> list[bytes]:
    """A device certificate signed by the factory's intermediate, its claims extension ``value``
    byte for byte (what a factory that writes its claims wrongly, or twice, would issue)."""
    good = x509.load_der_x509_certificate(
        FACTORY.issue(DeviceClaims.from_json(GOOD), KEY.public_key())[0]
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(good.subject)
        .issuer_name(good.issuer)
        .public_key(KEY.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(EPOCH)
        .not_valid_after(EPOCH + dt.timedelta(days=3650))
    )
    for ext in good.extensions:
        if ext.oid != DEVICE_CLAIMS_OID:
            builder = builder.add_extension(ext.value, ext.critical)
    builder = builder.add_extension(x509.UnrecognizedExtension(DEVICE_CLAIMS_OID, value), False)
    leaf = builder.sign(FACTORY._intermediate_key, hashes.SHA256())
    return [
        leaf.public_bytes(serialization.Encoding.DER),
        FACTORY.intermediate_cert.public_bytes(serialization.Encoding.DER),
    ]


def test_the_control_chain_with_exact_claims_verifies() -> None:
    claims, _ = FACTORY.trust.verify_chain(_leaf_with_extension(GOOD), now=SEPT_2021)
    assert claims == DeviceClaims("X0001", (IMEI,), "Redmi Note 9S", "EU")


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        # a second "serial": Python's parser would take the last one, another reader the first
        (GOOD[:-1] + b',"serial":"OTHER0001"}', "duplicate key 'serial'"),
        (GOOD[:-1] + b',"region":"CU"}', "exactly"),
        (GOOD.replace(b'"market":"EU",', b""), "exactly"),
        (GOOD.replace(b'"X0001"', b"1"), "strings"),
        (GOOD.replace(b'["' + IMEI.encode() + b'"]', IMEI.encode()), "strings"),
        (GOOD.replace(b'"X0001"', b'"X0001","serial":"X0001"'), "duplicate key"),
        (b"\xef\xbb\xbf" + GOOD, "byte order mark"),
        (GOOD.decode().encode("utf-16"), "UTF-16"),
        (b"[]", "exactly"),
    ],
)
def test_claims_other_than_exactly_the_specified_keys_are_refused(raw: bytes, says: str) -> None:
    with pytest.raises(CertificateError, match=says):
        DeviceClaims.from_json(raw)
    # ... and a certificate carrying them, properly signed by the factory, does not verify.
    with pytest.raises(CertificateError):
        FACTORY.trust.verify_chain(_leaf_with_extension(raw), now=SEPT_2021)


def test_the_longest_model_and_serial_the_protocol_admits_get_a_certificate() -> None:
    # DeviceReport allows a 64-character model and a 32-character serial; "<model> <serial>"
    # is then 97 characters, past X.509's 64 for a common name (cryptography refused it).
    model, serial = "M" * 64, "S" * 32
    DeviceReport(serial=serial, imeis=[IMEI], model=model, market="MI", firmware="V1")
    claims = DeviceClaims(serial, (IMEI,), model, "MI")
    chain = FACTORY.issue(claims, KEY.public_key())
    leaf = x509.load_der_x509_certificate(chain[0])
    (cn,) = leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    (serial_number,) = leaf.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
    assert len(str(cn.value)) == UB_COMMON_NAME and str(cn.value).endswith(f"... {serial}")
    assert serial_number.value == serial  # the serial whole, where it belongs
    # The claims (not the name) are what the server reads: they are whole.
    verified, _ = FACTORY.trust.verify_chain(chain, now=SEPT_2021)
    assert verified == claims


def test_a_name_that_fits_is_unchanged() -> None:
    assert device_common_name("Redmi Note 10 Pro", "RN10P2109000001") == (
        "Redmi Note 10 Pro RN10P2109000001"
    )
    exact = device_common_name("M" * 31, "S" * 32)
    assert exact == "M" * 31 + " " + "S" * 32 and len(exact) == UB_COMMON_NAME
    assert len(device_common_name("M" * 32, "S" * 32)) == UB_COMMON_NAME
    assert device_common_name("M", "S" * 80) == "S" * UB_COMMON_NAME
    # Counted in UTF-8 bytes, as cryptography counts them; a character is never split.
    long_accented = device_common_name("é" * 64, "S" * 32)
    assert len(long_accented.encode()) <= UB_COMMON_NAME and long_accented.endswith("S" * 32)
    FACTORY.issue(DeviceClaims("S" * 32, (IMEI,), "é" * 64, "MI"), KEY.public_key())
