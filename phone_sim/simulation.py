"""Assemble a playable world from a data directory: factory, vendor server, one phone, its client.

Used by the TUI entry point, the tests and (later) the scenario runner, so that each of them
wires the same parts the same way. Layout of a data directory::

    DATA/factory/   the factory CA (root.pem trusted by the server)
    DATA/vendor/    the embedded vendor server's key, database and policy
    DATA/phone/     the phone's identity, keys and state
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path

from phone_sim.client.vendor_client import VendorClient
from phone_sim.device.errors import CorruptStateError
from phone_sim.device.phone import Phone, VerdictOutcome
from phone_sim.device.provisioning import provision
from phone_sim.device.storage import DeviceStorage
from phone_sim.protocol.clock import SimulatedClock
from phone_sim.protocol.files import atomic_write
from phone_sim.protocol.identity import Factory
from server_stub.admin.client import AdminClient
from server_stub.datadir.settings import ServerSettings
from server_stub.runtime.embedded import EmbeddedVendorServer

#: 1 September 2021, 12:00 UTC: the month of the story. The simulated clock starts here.
STORY_START = 1630497600.0


@dataclass
class PhoneSpec:
    """Which phone the factory builds when the data directory has none yet."""

    model: str = "Redmi Note 9"
    market: str = "MI"
    bootloader_unlocked: bool = False
    custom_rom: bool = False


@dataclass
class Simulation:
    data_dir: Path
    clock: SimulatedClock
    phone: Phone
    client: VendorClient
    server: EmbeddedVendorServer | None = None
    #: the vendor's admin API (the operator's side), when its token is at hand
    admin: AdminClient | None = None
    _closed: bool = field(default=False, repr=False)

    @property
    def server_url(self) -> str:
        return self.client.base_url

    def activate(self) -> VerdictOutcome:
        """One blocking round trip (headless drivers; the TUI runs the same in a worker)."""
        attempt = self.phone.begin_activation()
        return self.phone.complete_activation(attempt, self.client.send(attempt))

    def run_due(self, *, limit: int = 10) -> list[VerdictOutcome]:
        """Apply the offline rule and perform every check-in that is due now (blocking)."""
        outcomes: list[VerdictOutcome] = []
        self.phone.tick()
        while self.phone.checkin_due() is not None and len(outcomes) < limit:
            outcomes.append(self.activate())
            self.phone.tick()
        return outcomes

    def advance(self, seconds: float) -> list[VerdictOutcome]:
        """Let ``seconds`` of simulated time pass, checking in whenever the phone would.

        The clock moves in steps to each scheduled check-in, so three days hold three daily
        check-ins, as they would in real time, rather than one at the end.
        """
        target = self.clock.now() + seconds
        outcomes = self.run_due()
        while True:
            next_at = self.phone.schedule.next_at
            now = self.clock.now()
            # Step to the next check-in if it lies ahead within the span; a check-in already
            # due but not taken (phone off, in setup) must not hold time still.
            step_to = next_at if next_at is not None and now < next_at <= target else target
            self.clock.advance(max(0.0, step_to - now))
            outcomes += self.run_due()
            if step_to >= target:
                return outcomes

    def close(self) -> None:
        if not self._closed:
            save_clock(self.data_dir, self.clock.now())
            if self.admin is not None:
                self.admin.close()
            if self.server is not None:
                self.server.stop()
        self._closed = True

    def __enter__(self) -> Simulation:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _clock_path(data_dir: Path) -> Path:
    return data_dir / "clock.json"


def load_clock(data_dir: Path) -> float | None:
    """The simulated time the world was left at, so a restart resumes it rather than rewinding.

    Raises:
        CorruptStateError: the file exists but does not hold a time.
    """
    path = _clock_path(data_dir)
    if not path.exists():
        return None
    try:
        value = json.loads(path.read_bytes())["now"]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError("'now' is not a number")
        return float(value)
    except (ValueError, KeyError, TypeError) as exc:
        raise CorruptStateError(path, str(exc)) from exc


def save_clock(data_dir: Path, now: float) -> None:
    atomic_write(_clock_path(data_dir), json.dumps({"now": now}).encode(), mode=0o644)


def open_simulation(
    data_dir: Path,
    *,
    spec: PhoneSpec | None = None,
    server_url: str | None = None,
    vendor_key: Path | None = None,
    clock: SimulatedClock | None = None,
    new_phone: bool = False,
    seed: int | None = None,
    admin_token: str | None = None,
    policy_path: Path | None = None,
) -> Simulation:
    """Open (creating on first use) the world kept in ``data_dir``.

    Without ``server_url`` a vendor server is embedded on loopback at an ephemeral port. With
    it, the phone talks to that server and pins ``vendor_key`` (a PEM file; default
    ``DATA/vendor/vendor.pub``); ``admin_token`` opens that server's admin API to the console.
    ``policy_path`` is installed as the embedded server's policy at start (scenarios).
    """
    data_dir = Path(data_dir)
    if clock is None:
        # A world resumes where it was left: rewinding would let the vendor "forget" a lock
        # that fell due, as no real phone's clock ever would.
        clock = SimulatedClock(load_clock(data_dir) or STORY_START)
    rng = random.Random(seed) if seed is not None else None  # noqa: S311 - simulated ids
    factory = Factory.open(data_dir / "factory")
    server = None
    if server_url is None:
        server = EmbeddedVendorServer(
            ServerSettings(
                data_dir=data_dir / "vendor",
                factory_root=data_dir / "factory" / "root.pem",
                port=0,
                policy_path=policy_path,
            ),
            clock=clock,
        )
        server.start()
        server_url = server.url
        vendor_key = server.vendor_public_key_path
        admin_token = server.admin_token.value
    vendor_key = vendor_key or data_dir / "vendor" / "vendor.pub"
    try:
        storage = DeviceStorage(data_dir / "phone")
        if new_phone or not storage.is_provisioned():
            spec = spec or PhoneSpec()
            storage = provision(
                storage.directory,
                factory,
                vendor_key.read_bytes(),
                model_name=spec.model,
                market_code=spec.market,
                bootloader_unlocked=spec.bootloader_unlocked,
                custom_rom=spec.custom_rom,
                rng=rng,
            )
            storage.wipe_state()
        phone = Phone.load(storage, clock=clock, rng=rng)
        client = VendorClient(
            base_url=server_url,
            device_key=storage.load_key(),
            device_serial=phone.identity.serial,
            vendor_key=storage.load_vendor_key(),
            clock=clock,
        )
    except BaseException:
        if server is not None:
            server.stop()
        raise
    admin = AdminClient(server_url, admin_token) if admin_token else None
    return Simulation(
        data_dir=data_dir, clock=clock, phone=phone, client=client, server=server, admin=admin
    )
