"""The protocol's numbers and names that need no model: versions, limits, the verdict's status.

They live apart from the pydantic models (``messages.py``, which re-exports them) so that the
device model, which reads verdicts but never builds a validator to do so, can name them without
loading pydantic: a phone's first frame shows no verdict
(docs/decisions/tui-first-frame-imports.md).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

PROTOCOL_VERSION = 1
#: the newest version of the messages this code reads and writes (PROTOCOL.md section 12)
LATEST_PROTOCOL = 2
#: the version whose requests may ask for, and whose verdicts may carry, version 2's fields
#: (contact details and warnings, section 7.2; an account and the key agreement behind unblock
#: codes, section 13)
PROTOCOL_V2 = LATEST_PROTOCOL
#: Largest request or verdict body either side reads, in bytes.
MAX_BODY_BYTES = 16 * 1024
#: How far a request's ``created`` may lie from the server's clock, either way (PROTOCOL.md
#: section 5; ``signing.py`` and the server's settings both read it).
MAX_REQUEST_SKEW = dt.timedelta(minutes=5)


class VerdictStatus(StrEnum):
    ACTIVATED = "activated"
    LOCKED = "locked"
