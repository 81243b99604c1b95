"""One request/answer round trip with the vendor, as the protocol inspector shows it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from phone_sim.protocol.contact import ContactKind

if TYPE_CHECKING:
    # decoded by the client (phone_sim/client/answers.py); the device only reads them
    from phone_sim.protocol.messages import Verdict
    from phone_sim.protocol.timesync import TimeAnswer


@dataclass(frozen=True)
class Exchange:
    """What was sent, what came back, and what the signature check said.

    ``verdict`` (``time`` for a time exchange) is set only when the answer carried a valid
    vendor signature and decoded as one; the phone still checks its contents before acting.
    """

    kind: ContactKind
    url: str
    request_headers: dict[str, str]
    request_body: bytes
    sent_at: float
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: bytes = b""
    verdict: Verdict | None = None
    #: the vendor's signed time, for a ``time`` exchange (set as ``verdict`` is)
    time: TimeAnswer | None = None
    #: "valid", "missing", "invalid", or "not checked" (no answer)
    signature: str = "not checked"
    error_code: str | None = None
    error: str | None = None
    #: the server's own error code, when it refused with an error body (``signature_stale``...)
    server_code: str | None = None
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return self.verdict is not None or self.time is not None
