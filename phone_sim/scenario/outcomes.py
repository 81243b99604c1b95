"""Vendor round trips in words that are the same from run to run (no ports, no timings)."""

from __future__ import annotations

from collections.abc import Sequence

from phone_sim.device.events import VerdictOutcome
from phone_sim.device.phone import Phone

from .subject import mask_ports

#: errors whose message carries the HTTP library's details (host, port, timeout): keep the gist
_TERSE = frozenset({"timeout", "unreachable", "truncated"})


def describe_outcome(outcome: VerdictOutcome, error_code: str | None = None) -> str:
    """``activated (ACTIVATION_OK)``, or ``error [timeout]: vendor server did not answer``."""
    if outcome.accepted and outcome.verdict is not None:
        return f"{outcome.verdict.status.value} ({outcome.verdict.reason})"
    detail = outcome.detail
    if error_code in _TERSE:
        detail = detail.split(" (", 1)[0]
    code = f" [{error_code}]" if error_code else ""
    return f"error{code}: {mask_ports(detail)}"


def describe_outcomes(phone: Phone, outcomes: Sequence[VerdictOutcome]) -> str:
    """Several round trips, runs of the same answer folded: ``activated (...) x2, locked (...)``."""
    if not outcomes:
        return "nothing due"
    # The phone's exchanges line up with the latest outcomes, one each, oldest first.
    exchanges = phone.exchanges[-len(outcomes) :]
    codes: list[str | None] = [None] * (len(outcomes) - len(exchanges))
    codes += [e.error_code for e in exchanges]
    runs: list[tuple[str, int]] = []
    for outcome, code in zip(outcomes, codes, strict=True):
        text = describe_outcome(outcome, code)
        if runs and runs[-1][0] == text:
            runs[-1] = (text, runs[-1][1] + 1)
        else:
            runs.append((text, 1))
    return ", then ".join(f"{t} x{n}" if n != 1 else t for t, n in runs)
