"""A fleet's parts for the fleet tests: the story's SIM mix, its identities, a vendor server.

``mix_file`` (a fixture, defined as ``mix_file_fixture``) writes the story's mix (90% German,
10% Cuban SIMs); :func:`fleet_identities` provisions devices from a seeded factory;
:func:`fleet_server` runs an embedded server in child processes trusting that factory. Shared by
``tests/functional/test_fleet.py`` and ``test_fleet_processes.py``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from phone_sim.fleet.identities import FleetFactory, Provisioned
from phone_sim.fleet.mix import SimMix
from phone_sim.fleet.server import ChildServer
from phone_sim.protocol.clock import STORY_START

MIX = """
description = "The story: 90% German SIMs, 10% Cuban"
[sims]
Telekom = 90
Cubacel = 10
"""


@pytest.fixture(name="mix_file")
def mix_file_fixture(tmp_path: Path) -> Path:
    path = tmp_path / "mix.toml"
    path.write_text(MIX, encoding="utf-8")
    return path


def fleet_identities(
    tmp_path: Path, mix: SimMix, devices: int, *, seed: int, build: bool = True
) -> Provisioned:
    """``devices`` phones from a factory in ``tmp_path / "factory"`` seeded with ``seed``."""
    factory = FleetFactory(
        tmp_path / "factory", tmp_path, model=mix.model, market=mix.market, seed=seed
    )
    return factory.devices(devices, build=build)


def fleet_server(tmp_path: Path, workers: int = 1) -> ChildServer:
    """An embedded server in child processes, trusting the factory ``fleet_identities`` made."""
    root = tmp_path / "factory" / "root.pem"
    return ChildServer(tmp_path / "run" / "vendor", root, start=STORY_START, workers=workers)


@contextlib.contextmanager
def fleet_serving(tmp_path: Path) -> Iterator[ChildServer]:
    """:func:`fleet_server`, stopped at the end (for tests that need none of its usage figures)."""
    server = fleet_server(tmp_path)
    try:
        yield server
    finally:
        server.close()
