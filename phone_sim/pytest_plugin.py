"""pytest plugin (entry point ``phone_sim``): worlds, vendors, phones and scenarios as fixtures.

Installed with phone-sim, so any test can ask for::

    world           a world of its own: world.phone("alice", model=..., market=...) gives a
                    phone (the same verbs as scenario steps); world.advance(days=3) moves the
                    world's time, every phone checking in on the way; world.vendor acts as the
                    vendor (release_all, policy_change, lock, release, server_down, ...)
    phone           a PhoneDriver: a new Redmi Note 9 (Global), off, in a world of its own
    make_phone      make_phone(model=, market=, bootloader=, custom_rom=, policy=, seed=, start=,
                    server=) for other phones, each in its own world unless ``server`` is given
                    (a ``vendor_server``, or a RemoteServer): phones on one server share its time
    vendor_server   a real vendor server on loopback (temp data dir, simulated clock standing at
                    2021-09-01 12:00 UTC), stopped after the test
    run_scenario    run_scenario("name-or-path.toml") runs a scenario headless and fails the test
                    with the run's output if a step fails; it returns the ScenarioResult

``start`` takes Unix seconds, a ``datetime`` or an ISO 8601 string; anything else is refused at
the call. Heavy imports happen inside the fixtures, so that loading the plugin costs nothing.

A test's worlds live in its ``tmp_path`` and go with it: the fixtures mark it throwaway
(``phone_sim.protocol.files.throwaway``), so setting a world up writes its files without fsyncs;
the vendor's commits of contacts stay durable (``docs/decisions/throwaway-worlds-skip-fsync.md``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from phone_sim.protocol.files import throwaway

if TYPE_CHECKING:
    from phone_sim.scenario.driver import PhoneDriver, RemoteServer
    from phone_sim.scenario.runner import ScenarioResult
    from phone_sim.scenario.world import ScenarioWorld, Start
    from server_stub.runtime.embedded import EmbeddedVendorServer


@pytest.fixture
def vendor_server(tmp_path: Path) -> Iterator[EmbeddedVendorServer]:
    """The vendor server on an ephemeral loopback port, its clock at the story's start.

    State in ``tmp_path / "vendor-server" / "vendor"``, trusting the factory beside it
    (``.../factory``). ``vendor_server.url``, ``.clock``, ``.admin_token.value`` and
    ``.vendor_public_key_path`` are what a client needs; ``make_phone(server=vendor_server)``
    puts phones on it, all on its time.
    """
    from phone_sim.protocol.clock import STORY_START, ClockMode
    from phone_sim.protocol.identity import Factory
    from server_stub.datadir.settings import ServerSettings
    from server_stub.runtime.embedded import EmbeddedVendorServer

    base = tmp_path / "vendor-server"
    Factory.open(base / "factory")
    settings = ServerSettings(
        data_dir=base / "vendor",
        port=0,
        clock_mode=ClockMode.SIMULATED,
        clock_start=STORY_START,
        clock_speed=0,
    )
    with throwaway(tmp_path), EmbeddedVendorServer(settings) as server:
        yield server


def _policy_text(policy: Mapping[str, Any] | str | None) -> str | None:
    from phone_sim.scenario.policy_text import default_policy, derived_version, merge, validated

    if policy is None or isinstance(policy, str):
        return policy
    base = default_policy()
    overrides = dict(policy)
    overrides.setdefault("version", derived_version(str(base["version"]), "test"))
    return validated(merge(base, overrides), source="policy")


@pytest.fixture
def world(tmp_path: Path) -> Iterator[ScenarioWorld]:
    """A world of this test's own: an embedded vendor on simulated time, phones on demand."""
    from phone_sim.scenario.world import ScenarioWorld

    with throwaway(tmp_path), ScenarioWorld.open(tmp_path / "world") as opened:
        yield opened


@pytest.fixture
def make_phone(tmp_path: Path) -> Iterator[Callable[..., PhoneDriver]]:
    """Build phones (each in a world of its own unless ``server`` is given); all are closed
    after the test."""
    from phone_sim.scenario.driver import PhoneDriver
    from phone_sim.scenario.model import DEFAULT_TIMEOUT, DeviceSpec

    drivers: list[PhoneDriver] = []

    def make(
        model: str = "Redmi Note 9",
        market: str = "MI",
        *,
        bootloader: str = "locked",
        custom_rom: bool = False,
        policy: Mapping[str, Any] | str | None = None,
        seed: int = 0,
        start: Start | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        server: RemoteServer | EmbeddedVendorServer | None = None,
    ) -> PhoneDriver:
        device = DeviceSpec(model, market, bootloader == "unlocked" or custom_rom, custom_rom)
        driver = PhoneDriver.open(
            tmp_path / f"phone-{len(drivers) + 1}",
            device=device,
            policy_text=_policy_text(policy),
            # Phones on one server each get their own serial and IMEIs.
            seed=seed if server is None else seed * 1000 + len(drivers),
            start=start,
            timeout=timeout,
            server=server,
        )
        drivers.append(driver)
        return driver

    with throwaway(tmp_path):
        yield make
        for driver in drivers:
            driver.close()


@pytest.fixture
def phone(make_phone: Callable[..., PhoneDriver]) -> PhoneDriver:
    """A new Global Redmi Note 9, powered off, in a world of its own."""
    return make_phone()


@pytest.fixture
def run_scenario(request: pytest.FixtureRequest) -> Callable[..., ScenarioResult]:
    """Run a scenario file (relative to the test file, or the working directory) or a shipped
    scenario by name; fail the test with the printed run unless every step passed."""
    from phone_sim.scenario.errors import ScenarioError
    from phone_sim.scenario.library import resolve
    from phone_sim.scenario.parser import load_scenario
    from phone_sim.scenario.runner import run

    base = request.path.parent

    def run_it(
        name: str | Path, *, check: bool = True, server: RemoteServer | None = None
    ) -> ScenarioResult:
        try:
            scenario = load_scenario(resolve(str(name), base=base))
        except ScenarioError as exc:
            pytest.fail(str(exc), pytrace=False)
        result = run(scenario, server=server, out=print)
        if check and not result.passed:
            pytest.fail(f"scenario {scenario.name} failed:\n{result.output}", pytrace=False)
        return result

    return run_it
