"""What every request handler needs, built once by :func:`server_stub.app.create_app`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from phone_sim.protocol.clock import Clock, utc
from phone_sim.protocol.identity import FactoryTrust

from .policy import Policy
from .settings import ServerSettings
from .store import Store
from .vendor_key import VendorKey


@dataclass(frozen=True)
class ServerContext:
    settings: ServerSettings
    clock: Clock
    store: Store
    policy: Policy
    trust: FactoryTrust
    vendor_key: VendorKey

    def now(self) -> int:
        """The server clock in whole Unix seconds, as verdicts and records carry it."""
        return int(self.clock.now())

    def utcnow(self) -> dt.datetime:
        return utc(self.clock)
