"""Running cases: each gives PASS, FAIL or SKIP with a one-line reason and its exchanges.

A case that needs what the server did not declare, or the factory the kit was not given, is
SKIPPED before it sends anything. Any error of the kit itself while a case runs is that case's
FAIL (saying so), never the end of the run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from .context import Kit
from .errors import CaseFailed, CaseSkipped
from .registry import Case
from .wire import Exchange, one_line


class Verdict(StrEnum):
    PASS = "PASS"  # noqa: S105 - a verdict, not a password
    FAIL = "FAIL"
    SKIP = "SKIP"


@dataclass(frozen=True)
class CaseResult:
    case: Case
    verdict: Verdict
    #: one line: what passed, what failed, or why it was skipped
    reason: str
    exchanges: tuple[Exchange, ...] = ()
    seconds: float = 0.0


@dataclass
class Run:
    """A run's results, in order."""

    results: list[CaseResult] = field(default_factory=list)

    def count(self, verdict: Verdict) -> int:
        return sum(1 for r in self.results if r.verdict is verdict)

    @property
    def failed(self) -> bool:
        return self.count(Verdict.FAIL) > 0

    def summary(self) -> str:
        return (
            f"{len(self.results)} case{'' if len(self.results) == 1 else 's'}: "
            f"{self.count(Verdict.PASS)} passed, "
            f"{self.count(Verdict.FAIL)} failed, {self.count(Verdict.SKIP)} skipped"
        )


def why_skipped(kit: Kit, case: Case) -> str | None:
    """Why ``case`` cannot run against this server with this kit, or None."""
    declared = kit.declared
    if case.policy is not None and declared.policy is not case.policy:
        return f"needs a server that declares policy {case.policy.value!r} (features file)"
    missing = sorted(f.value for f in case.needs - declared.features)
    if missing:
        return f"needs the optional feature {', '.join(missing)}, not declared (features file)"
    if case.factory and kit.identities.factory is None:
        return "needs the factory directory (--factory): a certificate only the factory issues"
    return None


def run_case(kit: Kit, case: Case) -> CaseResult:
    skipped = why_skipped(kit, case)
    if skipped is not None:
        return CaseResult(case, Verdict.SKIP, skipped)
    kit.exchanges = []
    started = time.monotonic()
    try:
        verdict, reason = Verdict.PASS, case.run(kit)
    except CaseFailed as exc:
        verdict, reason = Verdict.FAIL, str(exc)
    except CaseSkipped as exc:
        verdict, reason = Verdict.SKIP, str(exc)
    except Exception as exc:  # a kit bug must not end the run; it is this case's failure
        verdict, reason = Verdict.FAIL, f"error in the kit: {type(exc).__name__}: {exc}"
    # One line, whatever the server's words it quotes hold (an HTML error page had ten).
    reason = one_line(reason, limit=None)
    return CaseResult(case, verdict, reason, tuple(kit.exchanges), time.monotonic() - started)


def run_cases(
    kit: Kit, cases: Iterable[Case], report: Callable[[CaseResult], object] | None = None
) -> Run:
    run = Run()
    for case in cases:
        result = run_case(kit, case)
        run.results.append(result)
        if report is not None:
            report(result)
    return run
