"""The vendor's verbs, which act on the world: the server going down and up, faulty answers,
and the operator's hold, release, bulk release, policy change, clearing an account lock and
making unblock codes."""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from phone_sim.faults import FaultMode, FaultProxy
from phone_sim.protocol.device_secret import group_digits
from phone_sim.world.vendor import EmbeddedVendor
from phone_sim.world.world import World
from server_stub.admin.client import AdminClient, AdminClientError, AdminHttpError

from .errors import DriverError, NotAvailable
from .policy_text import derived_version, merge, validated
from .subject import mask_ports


class VendorDriver:
    """The vendor of one world, as steps and tests drive it."""

    def __init__(self, world: World, proxy: Callable[[], FaultProxy], *, embedded: bool) -> None:
        self.world = world
        #: the world's fault proxy, put between the phones and the vendor when first asked for
        self.proxy = proxy
        #: True when the driver runs the vendor server (it can stop and start it)
        self.embedded = embedded
        self._down = False

    @property
    def admin(self) -> AdminClient:
        admin = self.world.admin
        if admin is None:
            why = self.world.vendor.no_admin or "no admin token (--admin-token-file)"
            raise NotAvailable(f"needs the vendor's admin API: {mask_ports(why)}")
        return admin

    # --- the vendor server ------------------------------------------------------------------

    def _embedded(self, verb: str) -> EmbeddedVendor:
        vendor = self.world.vendor
        if not self.embedded or not isinstance(vendor, EmbeddedVendor):
            raise NotAvailable(f"{verb} needs the embedded server (not --server)")
        return vendor

    def server_down(self) -> str:
        vendor = self._embedded("server_down")
        if self._down:
            raise DriverError("the vendor server is already down")
        self.proxy()  # phones keep one address while the server is down and when it is up again
        vendor.stop()
        self._down = True
        return "vendor server stopped"

    def server_up(self) -> str:
        vendor = self._embedded("server_up")
        if not self._down:
            raise DriverError("the vendor server is not down")
        self.proxy().upstream = vendor.start()
        self._down = False
        return "vendor server started (same data)"

    def server_fault(self, mode: FaultMode | str, seconds: float = 0) -> str:
        mode = FaultMode(mode)
        self.proxy().set_fault(mode, seconds)
        if mode is FaultMode.NONE:
            return "answers untouched"
        return f"answers {mode.value}" + (f" by {seconds:g} s" if mode is FaultMode.SLOW else "")

    # --- the operator -----------------------------------------------------------------------

    def _operator(self, action: Callable[[], Any]) -> Any:
        return operator_call(action)

    def lock(self, ident: str, reason: str, message: str | None = None) -> str:
        """An investigation hold on a device (by serial or IMEI)."""
        view = self._operator(lambda: self.admin.lock(ident, reason=reason, message=message))
        return f"vendor shows the device {view.state}"

    def release(self, ident: str, reason: str) -> str:
        view = self._operator(lambda: self.admin.release(ident, reason=reason))
        return f"vendor shows the device {view.state}"

    def release_all(self, reason: str) -> tuple[str, tuple[str, ...]]:
        """Release every held, flagged or locked device: what to print, and who was released."""
        done = self._operator(lambda: self.admin.release_all(reason=reason))
        return f"released {len(done.released)} device(s)", tuple(done.released)

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

    # --- version 2: accounts and unblock codes ----------------------------------------------

    def clear_account(self, ident: str, reason: str) -> str:
        """Unbind a device from its account (its account lock lifts at its next contact)."""
        view = self._operator(lambda: self.admin.clear_account(ident, reason=reason))
        return f"vendor shows the device {view.state}, signed in to no account"

    def unblock_code(
        self, ident: str, challenge: str, reason: str | None = None
    ) -> tuple[str, str]:
        """The operator's unblock code for ``challenge``: what to print, and the code."""
        made = self._operator(lambda: self.admin.unblock_code(ident, challenge, reason=reason))
        released = "; the vendor released the device" if made.released else ""
        return f"code made for challenge {group_digits(made.challenge)}{released}", made.code


def operator_call(action: Callable[[], Any]) -> Any:
    """``action`` on the admin API; a server without one is :class:`NotAvailable`.

    Raises:
        NotAvailable: the server answers 404 ``not_found`` under ``/admin``: it has no admin API.
        DriverError: the admin API refused, or could not be reached.
    """
    try:
        return action()
    except AdminHttpError as exc:
        if exc.status == 404 and exc.code == "not_found":
            raise NotAvailable(
                f"needs the vendor's admin API, which it does not have ({exc})"
            ) from exc
        raise DriverError(f"the vendor refused: {mask_ports(str(exc))}") from exc
    except AdminClientError as exc:
        raise DriverError(f"the vendor refused: {mask_ports(str(exc))}") from exc
