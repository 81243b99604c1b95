"""Fixtures for the phone: a whole simulation (embedded real vendor server, real data dir)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot

from phone_sim.protocol.clock import FixedClock
from phone_sim.simulation import STORY_START, PhoneSpec, Simulation, open_simulation
from tests.support.docs_session import blocks  # noqa: F401  (the documented blocks' results)


@pytest.fixture
def make_sim(tmp_path: Path) -> Iterator[Callable[..., Simulation]]:
    """Open simulations in ``tmp_path / "world"`` (reopening one is a process restart)."""
    opened: list[Simulation] = []

    def make(spec: PhoneSpec | None = None, **kwargs: object) -> Simulation:
        # A reopened world resumes its clock where the last one stopped, as `make run` does.
        start = opened[-1].clock.now() if opened else STORY_START
        sim = open_simulation(
            tmp_path / "world",
            spec=spec,
            clock=FixedClock(start),
            seed=2021,
            **kwargs,  # type: ignore[arg-type]
        )
        opened.append(sim)
        return sim

    yield make
    for sim in opened:
        sim.close()


@pytest.fixture
def sim(make_sim: Callable[..., Simulation]) -> Simulation:
    return make_sim()


async def wait_until(
    pilot: Pilot[None], predicate: Callable[[], bool], timeout: float = 10.0
) -> None:
    """Let the app run until ``predicate`` holds; fail with a clear message if it never does."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            app = pilot.app
            sim = getattr(app, "sim", None)
            detail = ""
            if sim is not None:
                detail = (
                    f"; phone {sim.phone.state.value}, pending {sim.phone.pending is not None}, "
                    f"fast-forward to {getattr(app, 'fast_forward_to', None)}, clock {sim.clock.now()}, "
                    f"next check-in {sim.phone.schedule.next_at}, last error {sim.phone.last_error}"
                )
            raise AssertionError(f"timed out; screen is {type(app.screen).__name__}{detail}")
        await pilot.pause(0.02)
