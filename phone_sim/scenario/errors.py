"""Errors of the scenario package: a bad file, a step the driver cannot take, a failed check."""

from __future__ import annotations

from pathlib import Path


class ScenarioError(ValueError):
    """A scenario file that cannot run: where (file, line, step) and why.

    Formatted ``FILE:LINE: step N (kind): reason``; the step part is left out for problems
    outside the steps (the device, the policy, TOML syntax).
    """

    def __init__(
        self,
        file: Path | str,
        line: int | None,
        reason: str,
        *,
        step_index: int | None = None,
        step_kind: str | None = None,
    ) -> None:
        self.file = Path(file)
        self.line = line
        self.reason = reason
        self.step_index = step_index
        self.step_kind = step_kind
        super().__init__(self.formatted())

    def formatted(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else str(self.file)
        if self.step_index is not None:
            kind = f" ({self.step_kind})" if self.step_kind else ""
            return f"{where}: step {self.step_index}{kind}: {self.reason}"
        return f"{where}: {self.reason}"


class ScenarioNotFound(ScenarioError):
    """Neither a file nor a shipped scenario goes by that name."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(name, None, reason)


class DriverError(RuntimeError):
    """The driver could not do what a step asked (the phone refused, the server is down, ...)."""


class ExpectationFailed(AssertionError):
    """One or more expectations did not hold (raised by ``PhoneDriver.check``)."""
