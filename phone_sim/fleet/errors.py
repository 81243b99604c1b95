"""The fleet's errors: one base, a subclass per thing that can be wrong before a run starts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only named: importing it loads pydantic, which `phone-sim`'s parser avoids
    from phone_sim.tomlfile import Problem


class FleetError(Exception):
    """A fleet run cannot start (bad mix, unusable cache, no server)."""


class MixError(FleetError):
    """The SIM mix file is unreadable or names something unknown.

    The message has one line per problem (``mix.toml:3: sims.Atlantis: not a carrier ...``);
    ``problems`` holds them one by one (empty when the file could not be read).
    """

    def __init__(self, message: str, *, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.problems = tuple(problems)


class CacheError(FleetError):
    """The provisioning cache cannot be read or written."""


class FleetServerError(FleetError):
    """The vendor server for the fleet could not be started or reached."""
