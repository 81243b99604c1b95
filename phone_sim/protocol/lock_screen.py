"""What the vendor asks a phone to show around a lock: protocol version 2 (PROTOCOL.md §7.2).

* **Lock-screen details**: a contact phone number and e-mail address the lock screen shows under
  the vendor's message, with Knox Guard's limits (20 and 60 characters).
* **A warning before a delayed lock** (:class:`LockWarning`): when the lock falls due, a notice
  the user may dismiss from ``notice_at`` and a reminder that stays from ``reminder_at``, each
  with its own text of at most 350 characters (Knox Guard's limit for its lock message).

A verdict carries them only in answer to a request that says ``protocol: 2`` (a version 1 phone
refuses unknown fields), and says ``protocol: 2`` itself exactly when it carries one of them,
so a verdict that uses none is byte for byte a version 1 verdict. The policy's limits
(``server_stub.policy.schema``) are the ones here.
"""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

#: the protocol version that introduced the fields of this module
LOCK_SCREEN_PROTOCOL = 2
MAX_CONTACT_PHONE = 20
MAX_CONTACT_EMAIL = 60
#: a notice's or a reminder's text (Knox Guard's lock message limit)
MAX_NOTICE_CHARS = 350
#: digits, spaces and ``+ ( ) . -``, at least one digit: ``+53 7 266 6666``, ``(800) 555-0100``
PHONE_PATTERN = r"^[+]?[0-9 ().-]*[0-9][0-9 ().-]*$"
#: ``local@domain.tld`` in ASCII, no spaces
EMAIL_PATTERN = r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$"

ContactPhone = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_CONTACT_PHONE,
        pattern=PHONE_PATTERN,
        description="a number the lock screen shows: digits, spaces and + ( ) . -",
    ),
]
ContactEmail = Annotated[
    str,
    Field(
        min_length=3,
        max_length=MAX_CONTACT_EMAIL,
        pattern=EMAIL_PATTERN,
        description="an e-mail address the lock screen shows",
    ),
]
NoticeText = Annotated[str, Field(min_length=1, max_length=MAX_NOTICE_CHARS, pattern=r"\S")]


class LockWarning(BaseModel):
    """A lock is due at ``lock_at``: a dismissible notice from ``notice_at``, then a reminder
    that stays from ``reminder_at`` until the lock or a release."""

    # built on first use, like the messages' (docs/decisions/tui-first-frame-imports.md)
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)

    lock_at: int = Field(
        ge=0, description="Unix seconds: the vendor locks the phone at its first contact from then"
    )
    notice_at: int = Field(ge=0, description="show the notice (the user may dismiss it) from then")
    notice: NoticeText
    reminder_at: int = Field(ge=0, description="show the reminder (it stays) from then")
    reminder: NoticeText

    @model_validator(mode="after")
    def _in_order(self) -> Self:
        if not self.notice_at <= self.reminder_at <= self.lock_at:
            raise ValueError("notice_at <= reminder_at <= lock_at is required")
        return self

    def to_json(self) -> dict[str, object]:
        return self.model_dump(mode="json")
