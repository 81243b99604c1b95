"""What every request handler needs, built once by :func:`server_stub.app.create_app`."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field

from phone_sim.protocol.clock import Clock, utc
from phone_sim.protocol.identity import FactoryTrust

from .admin_token import AdminToken
from .policy import Policy
from .settings import ServerSettings
from .store import Store
from .vendor_key import VendorKey


@dataclass(frozen=True)
class PolicyInForce:
    """The policy deciding now, with the exact text it was read from and where that came from."""

    policy: Policy
    text: str
    source: str


@dataclass
class ServerContext:
    settings: ServerSettings
    clock: Clock
    store: Store
    policy_in_force: PolicyInForce
    trust: FactoryTrust
    vendor_key: VendorKey
    admin_token: AdminToken
    #: Held while a policy is replaced, so two replacements cannot interleave their writes.
    policy_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def policy(self) -> Policy:
        # One attribute read: a request sees the old policy or the new one, never a mixture.
        return self.policy_in_force.policy

    def now(self) -> int:
        """The server clock in whole Unix seconds, as verdicts and records carry it."""
        return int(self.clock.now())

    def utcnow(self) -> dt.datetime:
        return utc(self.clock)
