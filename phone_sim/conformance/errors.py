"""Named errors of the conformance kit: one base, a subclass for each way things go wrong."""

from __future__ import annotations


class ConformanceError(Exception):
    """Base of every error the kit raises."""


class KitSetupError(ConformanceError):
    """The kit cannot start: a file it was pointed at is missing or unreadable (says which)."""


class CaseFailed(ConformanceError):
    """The server's answer breaks what the case checks; the message is the one-line reason."""


class NotSignedByThePinnedKey(CaseFailed):
    """A signed answer whose signature does not verify with the pinned vendor key (another
    key id, or a signature made by another key)."""


class CaseSkipped(ConformanceError):
    """The case cannot run here (a feature not declared, no identity left); says why."""
