"""The vendor's time, signed: how a phone sets its clock (PROTOCOL.md section 2.1).

A world's time is the vendor's (``docs/decisions/one-world-one-time.md``). A phone asks for it
as a real phone asks the network, but authenticated, after Roughtime's pattern: it sends a fresh
nonce to ``POST /v1/time``; the vendor answers with its time, bound to that nonce and signed
with the vendor key exactly as a verdict is signed. A phone accepts the answer only if the
signature verifies with its pinned key and the nonce is the one it sent, so nobody between the
two can move its clock, and an old answer cannot be replayed. It never moves its clock back past
the last signed time it saw.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .canonical import canonical_json
from .clock import ClockMode
from .contact import ContactKind
from .messages import MAX_BODY_BYTES, Nonce, _Closed, _decode

TIME_PATH = ContactKind.TIME.path
#: the protocol version that introduced the time exchange
TIME_PROTOCOL: Literal[2] = 2

__all__ = ["MAX_BODY_BYTES", "TIME_PATH", "TimeAnswer", "TimeRequest"]


class TimeRequest(_Closed):
    """What a phone sends: a fresh nonce. Not signed: anybody may ask the time."""

    protocol: Literal[2] = TIME_PROTOCOL
    nonce: Nonce

    def encode(self) -> bytes:
        return canonical_json(self.model_dump(mode="json"))

    @classmethod
    def decode(cls, raw: bytes) -> TimeRequest:
        return _decode(cls, raw)


class TimeAnswer(_Closed):
    """The vendor's time, bound to the asker's nonce; signed like a verdict."""

    protocol: Literal[2] = TIME_PROTOCOL
    nonce: Nonce = Field(description="the nonce of the request this answers")
    now: int = Field(ge=0, description="the vendor's time, Unix seconds")
    mode: ClockMode = Field(strict=False, description="simulated or real time")
    # A whole number: JSON numbers with a fraction have more than one spelling, and every body
    # on the wire has one canonical form.
    speed: int = Field(
        ge=0, le=10**9, description="whole simulated seconds per real second (1 in real time)"
    )

    def encode(self) -> bytes:
        return canonical_json(self.model_dump(mode="json"))

    @classmethod
    def decode(cls, raw: bytes) -> TimeAnswer:
        return _decode(cls, raw)
