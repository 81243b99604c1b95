"""The fleet's errors: one base, a subclass per thing that can be wrong before a run starts."""

from __future__ import annotations


class FleetError(Exception):
    """A fleet run cannot start (bad mix, unusable cache, no server)."""


class MixError(FleetError):
    """The SIM mix file is unreadable or names something unknown.

    ``where`` is the key path of what is wrong (``("sims", "Atlantis")``), for the file's line.
    """

    def __init__(self, message: str, *, where: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.where = where


class CacheError(FleetError):
    """The provisioning cache cannot be read or written."""


class FleetServerError(FleetError):
    """The vendor server for the fleet could not be started or reached."""
