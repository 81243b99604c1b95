"""The fleet past one machine: Locust users that are phone-sim phones (docs/FLEET.md).

Each Locust user is one device: the same :class:`~phone_sim.device.phone.Phone` and
:class:`~phone_sim.client.vendor_client.VendorClient` as the TUI, the scenarios and
``phone-sim fleet``. It is made by the factory the server trusts when the user starts (a fresh
key and certificate), takes a SIM from the mix, activates, then checks in again and again (each
check-in is the user's *Retry*: the server runs on real time here, days cannot be skipped).
Every round trip (sign, send, verify the vendor's signature, judge the verdict) is reported to
Locust, failures by their error code.

One machine::

    vendor-server serve --data .phone-sim-data/vendor --init-factory      # port 8421
    locust -f bench/locustfile.py --headless -u 200 -r 20 -t 60s --host http://127.0.0.1:8421

Many machines (every worker needs the factory directory and the vendor's public key)::

    locust -f bench/locustfile.py --master --host http://VENDOR:8421
    locust -f bench/locustfile.py --worker --master-host MASTER     # on each worker machine

Options (after the usual Locust ones): ``--factory DIR`` (default ``.phone-sim-data/factory``),
``--vendor-key PEM`` (default ``.phone-sim-data/vendor/vendor.pub``), ``--sim-mix FILE`` (the
``phone-sim fleet`` mix format; default 90 % Telekom, 10 % Cubacel).
"""

from __future__ import annotations

import itertools
import random
import time
import uuid
from pathlib import Path
from typing import Any

import requests
from locust import User, between, events, task
from locust.env import Environment

from phone_sim.client.vendor_client import VendorClient
from phone_sim.device.phone import Phone
from phone_sim.fleet.kits import kit_from_entry, make_entry
from phone_sim.fleet.mix import SimMix, load_mix, story_mix
from phone_sim.protocol.clock import SystemClock
from phone_sim.protocol.identity import Factory
from phone_sim.protocol.keys import load_vendor_public_key

#: this process's devices: a seed of its own, so that workers never make the same device
_SEED = uuid.uuid4().int % 2**31
_INDEX = itertools.count()
_SETUP: dict[str, Any] = {}


def _options(parser: Any) -> None:
    parser.add_argument("--factory", default=".phone-sim-data/factory", help="the factory dir")
    parser.add_argument(
        "--vendor-key", default=".phone-sim-data/vendor/vendor.pub", help="the vendor public key"
    )
    parser.add_argument("--sim-mix", default="", help="a phone-sim fleet SIM mix (TOML)")


# (locust's EventHook.add_listener carries no annotations)
events.init_command_line_parser.add_listener(_options)  # type: ignore[no-untyped-call]


def _setup(environment: Environment) -> dict[str, Any]:
    if not _SETUP:
        options = environment.parsed_options
        if options is None:  # a User made outside locust's command line
            raise RuntimeError("phone-sim's locustfile runs through the locust command")
        mix: SimMix = load_mix(Path(options.sim_mix)) if options.sim_mix else story_mix()
        _SETUP.update(
            factory=Factory.open(Path(options.factory)),
            vendor_key=load_vendor_public_key(Path(options.vendor_key)),
            mix=mix,
        )
    return _SETUP


class Device(User):
    """One phone: activates once, then checks in every one to two seconds."""

    wait_time = between(1, 2)

    def on_start(self) -> None:
        setup = _setup(self.environment)
        mix: SimMix = setup["mix"]
        entry = make_entry(setup["factory"], mix.model, mix.market, _SEED, next(_INDEX))
        self.kit = kit_from_entry(entry, setup["factory"], mix.model, mix.market)
        choices, weights = zip(*mix.weights, strict=True)
        self.sim = random.choices(choices, weights)[0]
        self.phone = Phone(
            self.kit.identity, self.kit.certificates, clock=SystemClock(), exchange_memory=0
        )
        self.http = requests.Session()
        self.http.trust_env = False
        self.client_ = VendorClient(
            base_url=self.host or "",
            device_key=self.kit.key,
            device_serial=self.kit.identity.serial,
            vendor_key=setup["vendor_key"],
            clock=self.phone.clock,
            session=self.http,
        )
        self.phone.power_on()
        self.phone.finish_boot()
        sim = self.sim.sim()
        if sim is not None:
            self.phone.insert_sim(1, sim)
        self._exchange()

    def on_stop(self) -> None:
        self.http.close()

    @task
    def check_in(self) -> None:
        self.phone.retry()
        self._exchange()

    def _exchange(self) -> None:
        started = time.perf_counter()
        attempt = self.phone.begin_activation()
        exchange = self.client_.send(attempt)
        outcome = self.phone.complete_activation(attempt, exchange)
        error = None
        if outcome.verdict is None:
            error = RuntimeError(exchange.error_code or "verdict_rejected")
        self.environment.events.request.fire(
            request_type="POST",
            name=f"/v1/{attempt.kind}",
            response_time=(time.perf_counter() - started) * 1000,
            response_length=len(exchange.response_body),
            exception=error,
            context={"verdict": outcome.verdict.reason if outcome.verdict else None},
        )
