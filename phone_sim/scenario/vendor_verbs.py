"""The driver's verbs on the vendor's side: the server going down and up, faulty answers, and
the operator's hold, release, bulk release and policy change."""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from phone_sim.faults import FaultMode, FaultProxy
from phone_sim.simulation import Simulation
from server_stub.admin.client import AdminClient, AdminClientError
from server_stub.runtime.embedded import EmbeddedVendorServer

from .errors import DriverError
from .expectations import Expectations, mask_ports
from .policy_text import derived_version, merge, validated


class VendorVerbs(Expectations):
    sim: Simulation
    proxy: FaultProxy
    #: True when the driver runs the vendor server (it can stop and start it)
    embedded: bool
    _down: bool

    @property
    def admin(self) -> AdminClient:
        if self.sim.admin is None:
            raise DriverError("the operator's steps need the admin token (--admin-token-file)")
        return self.sim.admin

    # --- the vendor server ------------------------------------------------------------------

    def server_down(self) -> str:
        if not self.embedded or self.sim.server is None:
            raise DriverError("server_down needs the embedded server (not --server)")
        if self._down:
            raise DriverError("the vendor server is already down")
        self.sim.server.stop()
        self._down = True
        return "vendor server stopped"

    def server_up(self) -> str:
        if not self._down or self.sim.server is None:
            raise DriverError("the vendor server is not down")
        # The policy in force is in the data directory now; installing the start-up one
        # again would undo an operator's policy change.
        settings = dataclasses.replace(self.sim.server.settings, policy_path=None)
        server = EmbeddedVendorServer(settings, clock=self.sim.clock).start()
        self.sim.server, self._down = server, False
        self.proxy.upstream = server.url
        if self.sim.admin is not None:
            self.sim.admin.close()
        self.sim.admin = AdminClient(server.url, server.admin_token.value)
        return "vendor server started (same data)"

    def server_fault(self, mode: FaultMode | str, seconds: float = 0) -> str:
        mode = FaultMode(mode)
        self.proxy.set_fault(mode, seconds)
        if mode is FaultMode.NONE:
            return "answers untouched"
        return f"answers {mode.value}" + (f" by {seconds:g} s" if mode is FaultMode.SLOW else "")

    # --- the operator -----------------------------------------------------------------------

    def _ident(self, by: str) -> str:
        idents = {"serial": self.serial, "imei": self.imeis[0], "imei2": self.imeis[-1]}
        if by not in idents:
            raise DriverError(f"by must be serial, imei or imei2, not {by!r}")
        return idents[by]

    def _operator(self, action: Callable[[], Any]) -> Any:
        try:
            return action()
        except AdminClientError as exc:
            raise DriverError(f"the vendor refused: {mask_ports(str(exc))}") from exc

    def operator_lock(self, reason: str, message: str | None = None, by: str = "serial") -> str:
        """An investigation hold on this phone (by its serial or one of its IMEIs)."""
        ident = self._ident(by)
        view = self._operator(lambda: self.admin.lock(ident, reason=reason, message=message))
        return f"vendor shows the device {view.state}"

    def operator_release(self, reason: str, by: str = "serial") -> str:
        ident = self._ident(by)
        view = self._operator(lambda: self.admin.release(ident, reason=reason))
        return f"vendor shows the device {view.state}"

    def operator_release_all(self, reason: str) -> str:
        done = self._operator(lambda: self.admin.release_all(reason=reason))
        mine = "this phone among them" if self.serial in done.released else "not this phone"
        return f"released {len(done.released)} device(s), {mine}"

    def policy_change(
        self,
        text: str | None = None,
        *,
        file: Path | None = None,
        overrides: Mapping[str, Any] | None = None,
    ) -> str:
        """Install a policy: its ``text``, a ``file``, or ``overrides`` over the one in force."""
        if sum(x is not None for x in (text, file, overrides)) != 1:
            raise DriverError("policy_change takes one of: text, file, overrides")
        if file is not None:
            text = file.read_text(encoding="utf-8")
        elif overrides is not None:
            current = tomllib.loads(self._operator(self.admin.policy).text)
            extra = dict(overrides)
            extra.setdefault("version", derived_version(str(current["version"]), "test"))
            text = validated(merge(current, extra), source="policy")
        policy = str(text)
        done = self._operator(lambda: self.admin.set_policy(policy))
        return f"policy {done.version} in force (was {done.previous_version})"
