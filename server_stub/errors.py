"""Named errors of the vendor server. Wire-level failures use ``phone_sim.protocol.errors``."""

from __future__ import annotations


class VendorServerError(Exception):
    """Base of every error the vendor server raises about its own configuration or state."""


class SettingsError(VendorServerError):
    """The server settings are inconsistent or name files that are missing."""


class PolicyError(VendorServerError):
    """A policy file cannot be read or does not validate; the message names the field."""


class VendorKeyError(VendorServerError):
    """The vendor signing key on disk is unreadable or does not match its public half."""


class StoreError(VendorServerError):
    """The database cannot be opened or has a schema this version does not understand."""
