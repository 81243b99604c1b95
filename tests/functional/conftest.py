"""Fixtures for the phone: a whole world (embedded real vendor server, real data dir, a phone)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from phone_sim.device.provisioning import PhoneSpec
from phone_sim.world.world import open_world
from tests.support.docs_session import blocks  # noqa: F401  (the documented blocks' results)
from tests.support.one_phone import OnePhoneWorld
from tests.support.waits import on_screen, wait_until  # noqa: F401  (the tests' waits)


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
