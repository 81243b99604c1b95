"""A one-phone world as the functional tests use it: the world, its phone, and short names.

Tests that play one phone against the world's embedded vendor read ``sim.phone``,
``sim.clock``, ``sim.admin``; ``sim.world`` is what the app is made from.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from phone_sim.client.vendor_client import VendorClient
from phone_sim.device.events import VerdictOutcome
from phone_sim.device.phone import Phone
from phone_sim.protocol.clock import WorldClock
from phone_sim.world.phones import WorldPhone
from phone_sim.world.vendor import EmbeddedVendor
from phone_sim.world.world import World
from server_stub.admin.client import AdminClient
from server_stub.runtime.embedded import EmbeddedVendorServer


@dataclass
class OnePhoneWorld:
    world: World

    @property
    def first(self) -> WorldPhone:
        return next(iter(self.world))

    @property
    def phone(self) -> Phone:
        return self.first.phone

    @property
    def client(self) -> VendorClient:
        return self.first.client

    @property
    def clock(self) -> WorldClock:
        return self.world.clock

    @property
    def admin(self) -> AdminClient | None:
        return self.world.admin

    @property
    def data_dir(self) -> Path:
        return self.world.data_dir

    @property
    def server(self) -> EmbeddedVendorServer | None:
        vendor = self.world.vendor
        return vendor.server if isinstance(vendor, EmbeddedVendor) else None

    def activate(self) -> VerdictOutcome:
        return self.first.activate()

    def run_due(self) -> list[VerdictOutcome]:
        return self.first.run_due()

    def advance(self, seconds: float) -> list[VerdictOutcome]:
        return self.world.advance(seconds)[self.first.name]

    def close(self) -> None:
        self.world.close()
