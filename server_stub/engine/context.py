"""What every request handler needs, built once by :func:`server_stub.api.app.create_app`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

from cryptography.hazmat.primitives.asymmetric import ec

from phone_sim.protocol.clock import WorldClock, utc
from phone_sim.protocol.device_secret import encode_agreement_key, vendor_agreement_key
from phone_sim.protocol.identity import FactoryTrust
from server_stub.datadir.admin_token import AdminToken
from server_stub.datadir.settings import ServerSettings
from server_stub.datadir.vendor_key import VendorKey
from server_stub.policy import Policy
from server_stub.policy.keeper import PolicyInForce, PolicyKeeper
from server_stub.store.db import Store


@dataclass
class ServerContext:
    settings: ServerSettings
    clock: WorldClock
    store: Store
    #: the policy in force, and replacing it (:mod:`server_stub.admin.policy`)
    policies: PolicyKeeper
    trust: FactoryTrust
    vendor_key: VendorKey
    admin_token: AdminToken

    @property
    def policy_in_force(self) -> PolicyInForce:
        """The policy deciding now (with several processes: as installed when this is read)."""
        return self.policies.current()

    @property
    def policy(self) -> Policy:
        # One read: a decision that takes the policy once uses one policy throughout.
        return self.policies.current().policy

    @cached_property
    def agreement(self) -> ec.EllipticCurvePrivateKey:
        """The vendor's key-agreement key, derived from its verdict key (PROTOCOL.md 13.1)."""
        return vendor_agreement_key(self.vendor_key.private)

    @cached_property
    def agreement_public(self) -> str:
        """A version 2 verdict's ``agreement_key``."""
        return encode_agreement_key(self.agreement.public_key())

    def now(self) -> int:
        """The server clock in whole Unix seconds, as verdicts and records carry it."""
        return int(self.clock.now())

    def utcnow(self) -> dt.datetime:
        return utc(self.clock)
