"""The admin API's request and response bodies, shared by the routes and the admin client.

Pydantic models, so the OpenAPI schema, the server's answers and the client's parsing are one
definition. Requests are closed and strict like the device protocol's; responses are closed too,
so a client built from this module notices a server that changed shape.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from phone_sim.protocol.messages import SimReport, VerdictStatus
from server_stub.engine.states import DeviceStateName

#: Every state a device can be shown in, in lifecycle order (see docs/OPERATOR.md).
DEVICE_STATES: tuple[DeviceStateName, ...] = get_args(DeviceStateName)

#: An operator's reason: free text for people, kept in the audit log (not a verdict code).
ReasonText = Annotated[str, Field(min_length=1, max_length=200, pattern=r"\S")]


class _Model(BaseModel):
    # Answers build their validators on first use, not at import: the admin client loads with
    # the TUI, before its first frame (docs/decisions/tui-first-frame-imports.md).
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class _Request(_Model):
    # Built at once: FastAPI reads request bodies through them, and a deferred one makes it
    # warn about the alias it gives the body (pydantic's UnsupportedFieldAttributeWarning).
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, defer_build=False)


# --- requests ---------------------------------------------------------------------------------


class LockRequest(_Request):
    reason: ReasonText
    message: str | None = Field(
        default=None,
        min_length=1,
        max_length=1000,
        description="lock screen text (default: the policy's hold_message)",
    )


class ReleaseRequest(_Request):
    reason: ReasonText


class ClearAccountRequest(_Request):
    reason: ReasonText


class UnblockCodeRequest(_Request):
    challenge: str = Field(
        pattern=r"^[0-9]{4} ?[0-9]{4}$",
        description="the 8 digits the phone's lock screen shows (a space in the middle is fine)",
    )
    reason: ReasonText | None = Field(
        default=None,
        description="kept with the release the code stands for (default: unblock code)",
    )


class AdvanceRequest(_Request):
    seconds: int = Field(gt=0, le=10 * 365 * 86_400)


# --- responses --------------------------------------------------------------------------------


class HoldView(_Model):
    reason: str
    message: str | None
    at: int


class ReleaseView(_Model):
    reason: str
    at: int
    bulk: bool


class FlagView(_Model):
    source: Literal["activation", "sim", "region"]
    territory: str = Field(description="the embargoed territory, or the market of a region lock")
    network: str = Field(description="the MCC-MNC that matched")
    slot: int
    data: Literal["home", "serving"]
    since: int = Field(description="first seen, Unix seconds")
    enforced_at: int | None


class DeliveryView(_Model):
    """A lock or release: decided and pending until the device's next contact, or delivered."""

    kind: Literal["lock", "release"]
    state: Literal["pending", "delivered"]
    decided_at: int | None = Field(description="when the server decided it; null if unknown")
    delivered_at: int | None = Field(description="when a verdict carried it to the device")
    sequence: int | None = Field(description="that verdict's sequence")


class AccountView(_Model):
    """The account a device is signed in to (PROTOCOL.md 13.2)."""

    name: str
    find_device: bool = Field(description="a factory reset engages the account lock")
    locked: bool = Field(
        description="the account lock holds: setup stops at 'This device is locked'"
    )
    bound_at: int
    locked_at: int | None


class DeviceView(_Model):
    """One row of the device list."""

    serial: str | None = Field(description="null for a hold placed on an IMEI not seen yet")
    imeis: list[str]
    model: str | None
    market: str | None
    state: DeviceStateName
    status: VerdictStatus | None = Field(description="status of the last verdict sent")
    reason: str | None = Field(description="reason of the last verdict sent")
    activation_network: str | None = Field(description="home MCC-MNC of the first activation SIM")
    activation_territory: str | None = Field(
        description="the policy territory or the country of that network, if known"
    )
    activated_at: int | None
    last_contact: int | None
    lock_due_at: int | None = Field(description="when a pending embargo lock falls due")
    hold: HoldView | None
    release: ReleaseView | None
    delivery: DeliveryView | None = Field(
        default=None,
        description="the lock or release pending now, else the last one delivered (null: none)",
    )
    account: AccountView | None = Field(default=None, description="the account it is signed in to")
    unblock_codes: bool = Field(
        default=False,
        description="it holds a secret shared with the vendor (a version 2 verdict): the "
        "operator can make it unblock codes",
    )


class UnblockCode(_Model):
    """A code for one device and one challenge (PROTOCOL.md 13.3)."""

    serial: str
    challenge: str
    code: str = Field(description="8 digits; the user types it on the lock screen")
    purpose: Literal["release"]
    released: bool = Field(
        description="a hold or flags were released with it, so the device stays unlocked at "
        "its next contact"
    )


class VerdictSummary(_Model):
    sequence: int
    status: str
    reason: str
    policy_version: str
    issued_at: int


class AuditEntry(_Model):
    id: int
    at: int
    kind: str
    actor: str
    serial: str | None
    imei: str | None
    inputs: dict[str, Any]
    rule: str
    policy_version: str
    status: str | None
    reason: str | None
    sequence: int | None
    detail: dict[str, Any]


class DeviceDetail(DeviceView):
    """One device in full: what it was activated with, its flags, recent verdicts and audit."""

    activation_sims: list[SimReport]
    last_sims: list[SimReport]
    flags: list[FlagView] = Field(description="flags in force now, under the current policy")
    pardoned: list[str] = Field(description="what releases have forgiven (territory:…, region:…)")
    verdicts: list[VerdictSummary] = Field(description="the last 10 verdicts, oldest first")
    deliveries: list[DeliveryView] = Field(
        default=[], description="the last 10 locks and releases delivered, oldest first"
    )
    audit: list[AuditEntry] = Field(description="the last 20 audit entries, oldest first")


class DeviceList(_Model):
    devices: list[DeviceView]


class FleetPage(_Model):
    """Part of the device list, for a console over a fleet too large to list whole."""

    devices: list[DeviceView] = Field(
        description="the devices named by `ident`, in the order named; then the `limit` pending "
        "holds placed last and the `limit` devices the server met last, in the order met"
    )
    total: int = Field(description="devices and pending holds the server knows, listed or not")


class BulkRelease(_Model):
    reason: str
    released: list[str] = Field(description="serials (or held IMEIs) released")


class PolicyView(_Model):
    version: str
    source: str
    text: str


class PolicyReplaced(_Model):
    version: str
    previous_version: str


class AuditPage(_Model):
    entries: list[AuditEntry]
    last_id: int = Field(description="pass as after_id to get what follows")


class ClockView(_Model):
    now: int
    speed: float
    simulated: bool
