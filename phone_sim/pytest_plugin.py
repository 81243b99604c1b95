"""pytest plugin (entry point ``phone_sim``): a vendor server, phones and scenarios as fixtures.

Installed with phone-sim, so any test can ask for::

    vendor_server   a real vendor server on loopback (temp data dir, clock fixed at
                    2021-09-01 12:00 UTC), stopped after the test
    phone           a PhoneDriver: a new Redmi Note 9 (Global), off, on its own embedded server;
                    the same verbs as scenario steps (boot, insert_sim, advance, check, ...)
    make_phone      make_phone(model=, market=, bootloader=, custom_rom=, policy=, seed=, start=)
                    for other phones (policy: overrides as a dict, or a whole policy's text)
    run_scenario    run_scenario("name-or-path.toml") runs a scenario headless and fails the test
                    with the run's output if a step fails; it returns the ScenarioResult

Heavy imports happen inside the fixtures, so that loading the plugin costs a test run nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from phone_sim.scenario.driver import PhoneDriver, RemoteServer
    from phone_sim.scenario.runner import ScenarioResult
    from server_stub.runtime.embedded import EmbeddedVendorServer


@pytest.fixture
def vendor_server(tmp_path: Path) -> Iterator[EmbeddedVendorServer]:
    """The vendor server on an ephemeral loopback port, its clock fixed at the story's start.

    State in ``tmp_path / "vendor-server" / "vendor"``, trusting the factory beside it
    (``.../factory``). ``vendor_server.url``, ``.clock``, ``.admin_token.value`` and
    ``.vendor_public_key_path`` are what a client needs.
    """
    from phone_sim.protocol.clock import FixedClock
    from phone_sim.protocol.identity import Factory
    from phone_sim.simulation import STORY_START
    from server_stub.datadir.settings import ServerSettings
    from server_stub.runtime.embedded import EmbeddedVendorServer

    base = tmp_path / "vendor-server"
    Factory.open(base / "factory")
    settings = ServerSettings(data_dir=base / "vendor", port=0)
    with EmbeddedVendorServer(settings, clock=FixedClock(STORY_START)) as server:
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
def make_phone(tmp_path: Path) -> Iterator[Callable[..., PhoneDriver]]:
    """Build phones (each with its own embedded vendor server); all are closed after the test."""
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
        start: float | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        server: RemoteServer | None = None,
    ) -> PhoneDriver:
        device = DeviceSpec(model, market, bootloader == "unlocked" or custom_rom, custom_rom)
        driver = PhoneDriver.open(
            tmp_path / f"phone-{len(drivers) + 1}",
            device=device,
            policy_text=_policy_text(policy),
            seed=seed,
            start=start,
            timeout=timeout,
            server=server,
        )
        drivers.append(driver)
        return driver

    yield make
    for driver in drivers:
        driver.close()


@pytest.fixture
def phone(make_phone: Callable[..., PhoneDriver]) -> PhoneDriver:
    """A new Global Redmi Note 9, powered off, on its own embedded vendor server."""
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
