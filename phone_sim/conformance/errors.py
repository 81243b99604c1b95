"""Named errors of the conformance kit: one base, a subclass for each way things go wrong."""

from __future__ import annotations


class ConformanceError(Exception):
    """Base of every error the kit raises."""


class KitSetupError(ConformanceError):
    """The kit cannot start: a file it was pointed at is missing or unreadable (says which)."""


class CaseFailed(ConformanceError):
    """The server's answer breaks what the case checks; the message is the one-line reason."""


class CaseSkipped(ConformanceError):
    """The case cannot run here (a feature not declared, no identity left); says why."""
