"""Named protocol errors, each with the machine-readable code the server sends on the wire."""

from __future__ import annotations


class ProtocolError(Exception):
    """Base of every protocol failure. ``code`` is the wire error code, ``status`` the HTTP status."""

    code = "protocol_error"
    status = 400

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        return str(self)


class MalformedMessage(ProtocolError):
    """The bytes are not a well-formed protocol message (JSON, types, fields, values)."""

    code = "malformed_request"
    status = 400


class PayloadTooLarge(ProtocolError):
    """The message is larger than the protocol allows."""

    code = "payload_too_large"
    status = 413


class SignatureError(ProtocolError):
    """An RFC 9421 signature is missing, malformed, does not cover what it must, or does not verify."""

    code = "signature_invalid"
    status = 401


class StaleMessage(SignatureError):
    """The signature's ``created`` time is too old or in the future."""

    code = "signature_stale"


class ReplayedNonce(SignatureError):
    """A nonce was seen before."""

    code = "nonce_replayed"
    status = 409


class CertificateError(ProtocolError):
    """The device certificate does not chain to the factory root, is expired, or does not match."""

    code = "certificate_invalid"
    status = 403


class VerdictRejected(ProtocolError):
    """A verdict that the phone refuses to act on (wrong device, nonce, sequence, expiry)."""

    code = "verdict_rejected"
    status = 502
