"""Errors of the scenario package: a bad file, a step the driver cannot take (or that this world
cannot offer), a failed check."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ScenarioProblem:
    """One thing wrong in a scenario file: its line, the step it is in (if any), and why."""

    line: int | None
    reason: str
    step_index: int | None = None
    step_kind: str | None = None

    def formatted(self, file: Path) -> str:
        where = f"{file}:{self.line}" if self.line is not None else str(file)
        if self.step_index is not None:
            kind = f" ({self.step_kind})" if self.step_kind else ""
            return f"{where}: step {self.step_index}{kind}: {self.reason}"
        return f"{where}: {self.reason}"


class ScenarioError(ValueError):
    """A scenario file that cannot run: where (file, line, step) and why, for every problem.

    Formatted one line per problem, ``FILE:LINE: step N (kind): reason``; the step part is
    left out for problems outside the steps (the device, the policy, TOML syntax). ``line``,
    ``reason``, ``step_index`` and ``step_kind`` are those of the first problem.
    """

    def __init__(
        self,
        file: Path | str,
        line: int | None,
        reason: str,
        *,
        step_index: int | None = None,
        step_kind: str | None = None,
        more: Sequence[ScenarioProblem] = (),
    ) -> None:
        self.file = Path(file)
        self.line = line
        self.reason = reason
        self.step_index = step_index
        self.step_kind = step_kind
        self.problems = (ScenarioProblem(line, reason, step_index, step_kind), *more)
        super().__init__(self.formatted())

    @classmethod
    def of(cls, file: Path | str, problems: Sequence[ScenarioProblem]) -> ScenarioError:
        first, *more = problems
        return cls(
            file,
            first.line,
            first.reason,
            step_index=first.step_index,
            step_kind=first.step_kind,
            more=more,
        )

    def formatted(self) -> str:
        return "\n".join(p.formatted(self.file) for p in self.problems)


class ScenarioNotFound(ScenarioError):
    """Neither a file nor a shipped scenario goes by that name."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(name, None, reason)


class DriverError(RuntimeError):
    """The driver could not do what a step asked (the phone refused, the server is down, ...)."""


class NotAvailable(DriverError):
    """What a step or an expectation needs is not in this world, and says why: the vendor's
    admin API (a server that speaks only the protocol), a clock that can move (a vendor on
    real time), the embedded server. The runner reports such a step SKIPPED, never FAILED."""


class ExpectationFailed(AssertionError):
    """One or more expectations did not hold (raised by ``PhoneDriver.check``)."""
