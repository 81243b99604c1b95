"""What goes wrong opening a world, named."""

from __future__ import annotations


class WorldError(Exception):
    """Base of the world's errors."""


class LaunchError(WorldError):
    """A world cannot be opened as asked; the message says why and what to do."""
