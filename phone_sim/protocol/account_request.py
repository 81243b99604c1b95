"""Version 2: the body of ``POST /v1/account`` (PROTOCOL.md section 13.2), as pydantic models.

The account's names, rules and errors are in :mod:`.account`; the device builds this request
only when it sends one.
"""

from __future__ import annotations

from pydantic import Field

from .account import ACCOUNT_NAME_PATTERN, AccountAction
from .messages import PROTOCOL_V2, ActivationRequest, _Closed, _decode


class AccountBody(_Closed):
    """What the device asks of the account, with the password sealed."""

    action: AccountAction = Field(strict=False)
    name: str = Field(pattern=ACCOUNT_NAME_PATTERN, description="the account, lower case")
    password: str = Field(
        min_length=24,
        max_length=1024,
        pattern=r"^[A-Za-z0-9+/]+={0,2}$",
        description="AES-256-GCM of the password under the device's password key, base64",
    )
    find_device: bool = Field(
        default=True, description="sign_in: turn Find Device on (a reset then locks the device)"
    )


class AccountRequest(ActivationRequest):
    """Body of ``POST /v1/account``: an activation request (protocol 2) and ``account``."""

    protocol: int = Field(default=PROTOCOL_V2, ge=PROTOCOL_V2, le=PROTOCOL_V2)
    account: AccountBody

    @classmethod
    def decode(cls, raw: bytes) -> AccountRequest:
        return _decode(cls, raw)
