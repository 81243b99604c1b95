"""One phone of a world: the device model, its data directory and its client to the vendor.

A phone's data directory holds its identity, keys and state (``phone_sim.device.storage``);
the world keeps each phone's apart (``DATA/phone`` for the first, ``DATA/phones/NAME`` for the
others). Round trips here block: headless drivers call them directly, the TUI runs the same
client calls in thread workers and hands the answers to the same phone methods.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from phone_sim.client.vendor_client import VendorClient
from phone_sim.device.clock import DeviceClock
from phone_sim.device.events import VerdictOutcome
from phone_sim.device.phone import Phone
from phone_sim.device.provisioning import PhoneSpec, provision
from phone_sim.device.storage import DeviceStorage
from phone_sim.protocol.account import AccountAction
from phone_sim.protocol.clock import Clock, SimulatedClock

if TYPE_CHECKING:
    from phone_sim.protocol.identity import Factory

#: the name of a world's first phone, whose data directory is ``DATA/phone``
FIRST_PHONE = "phone"


def phone_dir(data_dir: Path, name: str) -> Path:
    """Where the phone called ``name`` keeps its data in the world kept in ``data_dir``."""
    return data_dir / FIRST_PHONE if name == FIRST_PHONE else data_dir / "phones" / name


@dataclass
class WorldPhone:
    name: str
    data_dir: Path
    phone: Phone
    client: VendorClient

    @property
    def label(self) -> str:
        """How a status line names the phone: its name and model."""
        return f"{self.name} ({self.phone.identity.model})"

    def sync_time(self) -> VerdictOutcome:
        """Ask the vendor's signed time and set the phone's clock from it (blocking)."""
        attempt = self.phone.begin_time_sync()
        return self.phone.complete_time_sync(attempt, self.client.ask_time(attempt))

    def activate(self) -> VerdictOutcome:
        """One activation or check-in (blocking), setting the clock first when it must.

        A request the vendor calls stale (the world's time moved elsewhere) is asked again
        once, after the phone has set its clock from the vendor's signed time.
        """
        asked_in = self.phone.request_protocol
        outcome = self._ask()
        stale = not outcome.accepted and self.phone.time_sync_due() is not None
        if stale and self.sync_time().accepted:
            outcome = self._ask()
        elif not outcome.accepted and self.phone.request_protocol < asked_in:
            outcome = self._ask()  # a version 1 vendor: the same question in version 1
        return outcome

    def account(
        self, action: AccountAction, name: str, password: str, *, find_device: bool = True
    ) -> VerdictOutcome:
        """One account request (blocking): sign in or out, or lift the account lock.

        Raises:
            PhoneError: the phone cannot send it (its state, no key from the vendor, a name or
                password it would not send).
        """
        if self.phone.time_sync_due() is not None:
            self.sync_time()
        attempt = self.phone.begin_account(action, name, password, find_device=find_device)
        return self.phone.complete_activation(attempt, self.client.send(attempt))

    def _ask(self) -> VerdictOutcome:
        if self.phone.time_sync_due() is not None:
            self.sync_time()
        attempt = self.phone.begin_activation()
        return self.phone.complete_activation(attempt, self.client.send(attempt))

    def run_due(self, *, limit: int = 10) -> list[VerdictOutcome]:
        """Apply the offline rule, set the clock if due, and make every check-in due now."""
        outcomes: list[VerdictOutcome] = []
        self.phone.tick()
        if self.phone.time_sync_due() is not None:
            self.sync_time()
        while self.phone.checkin_due() is not None and len(outcomes) < limit:
            outcomes.append(self.activate())
            self.phone.tick()
        return outcomes


def open_phone(
    name: str,
    data_dir: Path,
    *,
    factory: Callable[[], Factory],
    url: str,
    vendor_key: Path,
    clock: Clock,
    shared_clock: bool,
    spec: PhoneSpec | None = None,
    new: bool = False,
    rng: random.Random | None = None,
    timeout: float | None = None,
) -> WorldPhone:
    """The phone called ``name`` in ``data_dir`` (made by ``factory()`` if there is none, or if
    ``new``), talking to the vendor at ``url`` and pinning ``vendor_key``. The factory is asked
    for only then: opening a phone needs no certificate machinery.

    ``shared_clock``: ``clock`` is the world's own clock object (the vendor is in this
    process). Otherwise the phone runs a clock of its own from ``clock``'s reading and sets it
    from the vendor's signed time.
    """
    storage = DeviceStorage(phone_dir(data_dir, name))
    if new or not storage.is_provisioned():
        spec = spec or PhoneSpec()
        storage = provision(
            storage.directory,
            factory(),
            vendor_key.read_bytes(),
            model_name=spec.model,
            market_code=spec.market,
            bootloader_unlocked=spec.bootloader_unlocked,
            custom_rom=spec.custom_rom,
            rng=rng,
        )
        storage.wipe_state()
    state = storage.load_state()
    source: Clock = clock
    if not shared_clock:
        # The phone's own clock runs from where it last was (or the world's reading) until
        # the vendor's signed time sets it, at boot.
        start = max(clock.now(), state.time_floor or 0.0)
        source = SimulatedClock(start, speed=getattr(clock, "speed", 1.0))
    device_clock = DeviceClock(source, shared=shared_clock, floor=state.time_floor or 0.0)
    phone = Phone.load(storage, clock=device_clock, rng=rng)
    client = VendorClient(
        base_url=url,
        device_key=storage.load_key(),
        device_serial=phone.identity.serial,
        vendor_key=storage.load_vendor_key(),
        clock=device_clock,
    )
    if timeout is not None:
        client.timeout = timeout
    return WorldPhone(name, storage.directory, phone, client)
