"""Every shell command and Python example of README.md and docs/*.md runs as written.

One test per block, named by file and line (a long command run at its smallest size shows the
command as run). How a block runs, and the annotations that say so: tests/support/docs_blocks.py;
where and how many at once: tests/support/docs_session.py; the runner in the block's directory:
tests/support/docs_runner.py.
"""

from __future__ import annotations

import pytest

from tests.support.docs_blocks import Plan
from tests.support.docs_session import PLANS, Blocks, all_skipped

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("plan", PLANS, ids=[p.test_id for p in PLANS])
def test_documented_block(plan: Plan, blocks: Blocks) -> None:
    if all_skipped(plan):
        pytest.skip("; ".join(str(s.reason) for s in plan.steps))
    outcomes = blocks.outcomes(plan)
    failed = [o for o in outcomes if not o["passed"]]
    assert not failed, "\n\n".join(
        f"{o['origin']} ({o['kind']}): {o['command']}\n{o['detail']}" for o in failed
    )
    ran = [o for o in outcomes if o["kind"] != "skip" and o["origin"] == plan.block.where]
    skipped = [o for o in outcomes if o["kind"] == "skip"]
    if not ran:
        pytest.skip("; ".join(str(o["detail"]) for o in skipped))
