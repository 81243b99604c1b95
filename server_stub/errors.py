"""Named errors of the vendor server. Wire-level failures use ``phone_sim.protocol.errors``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from phone_sim.tomlfile import Problem


class VendorServerError(Exception):
    """Base of every error the vendor server raises about its own configuration or state."""


class SettingsError(VendorServerError):
    """The server settings are inconsistent or name files that are missing."""


class PolicyError(VendorServerError):
    """A policy file cannot be read or does not validate; the message names the field.

    A policy that does not validate has one line per problem (``file:line: field: reason``);
    ``problems`` holds them one by one (empty when the file could not be read).
    """

    def __init__(self, message: str, *, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.problems = tuple(problems)


class VendorKeyError(VendorServerError):
    """The vendor signing key on disk is unreadable or does not match its public half."""


class StoreError(VendorServerError):
    """The database cannot be opened or has a schema this version does not understand."""


class ApiError(VendorServerError):
    """A refusal of the admin API, sent as the JSON error body with ``status`` and ``code``."""

    status = 400
    code = "bad_request"

    @property
    def message(self) -> str:
        return str(self)


class AdminUnauthorized(ApiError):
    """No bearer token, or not the server's admin token."""

    status = 401
    code = "admin_unauthorized"


class AdminForbidden(ApiError):
    """The admin API was called from another host and the server does not allow it."""

    status = 403
    code = "admin_forbidden"


class BadIdentifier(ApiError):
    """Neither a serial (4-32 letters or digits) nor an IMEI with a valid check digit."""

    status = 400
    code = "malformed_request"


class DeviceNotFound(ApiError):
    """No device or pending hold has this serial or IMEI."""

    status = 404
    code = "device_not_found"


class NothingToRelease(ApiError):
    """The device is neither held, flagged nor locked."""

    status = 409
    code = "nothing_to_release"


class PolicyRejected(ApiError):
    """A replacement policy does not validate; the policy in force stays."""

    status = 400
    code = "policy_invalid"


class PolicyVersionConflict(ApiError):
    """A different policy under the version already in force (the audit log could not tell them apart)."""

    status = 409
    code = "policy_version_unchanged"


class ClockNotAdjustable(ApiError):
    """The server runs on real time, which cannot be advanced."""

    status = 409
    code = "clock_not_adjustable"
