"""Fixtures for the phone: a whole world (embedded real vendor server, real data dir, a phone)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot

from phone_sim.device.provisioning import PhoneSpec
from phone_sim.world.world import open_world
from tests.support.docs_session import blocks  # noqa: F401  (the documented blocks' results)
from tests.support.one_phone import OnePhoneWorld


@pytest.fixture
def make_sim(tmp_path: Path) -> Iterator[Callable[..., OnePhoneWorld]]:
    """Open the world in ``tmp_path / "world"`` with its phone (reopening it is a restart).

    Time stands still (speed 0) unless a test moves it; a reopened world resumes its clock
    where the last one stopped, as `make run` does.
    """
    opened: list[OnePhoneWorld] = []

    def make(
        spec: PhoneSpec | None = None, *, new_phone: bool = False, policy_path: Path | None = None
    ) -> OnePhoneWorld:
        world = open_world(tmp_path / "world", speed=0, seed=2021, policy_path=policy_path)
        try:
            world.add_phone(spec=spec, new=new_phone)
        except BaseException:
            world.close()
            raise
        sim = OnePhoneWorld(world)
        opened.append(sim)
        return sim

    yield make
    for sim in opened:
        sim.close()


@pytest.fixture
def sim(make_sim: Callable[..., OnePhoneWorld]) -> OnePhoneWorld:
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
            world = getattr(app, "world", None)
            detail = ""
            if world is not None:
                phone = app.phone  # type: ignore[attr-defined]
                detail = (
                    f"; phone {phone.state.value}, pending {phone.pending is not None}, "
                    f"fast-forward to {getattr(app, 'fast_forward_to', None)}, "
                    f"clock {world.clock.now()}, next check-in {phone.next_checkin_at}, "
                    f"last error {phone.last_error}"
                )
            raise AssertionError(f"timed out; screen is {type(app.screen).__name__}{detail}")
        await pilot.pause(0.02)
