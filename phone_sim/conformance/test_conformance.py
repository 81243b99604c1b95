"""The conformance kit as pytest tests: one per case, for a server project's CI.

Run with ``pytest --pyargs phone_sim.conformance --conformance-server URL ...`` (the options
are the plugin's: :mod:`phone_sim.conformance.plugin`). A FAIL is a failed test with the
case's reason; a SKIP is a skipped test with its reason.
"""

from __future__ import annotations

import pytest

from phone_sim.conformance.cases import CASES
from phone_sim.conformance.context import Kit
from phone_sim.conformance.runner import Verdict, run_case


@pytest.mark.parametrize("case_id", list(CASES))
def test_case(conformance_kit: Kit, case_id: str) -> None:
    case = CASES[case_id]
    result = run_case(conformance_kit, case)
    if result.verdict is Verdict.SKIP:
        pytest.skip(f"{case_id}: {result.reason}")
    if result.verdict is Verdict.FAIL:
        pytest.fail(f"{case_id} ({case.title}, {case.where}): {result.reason}", pytrace=False)
