"""PhoneDriver: the verbs of scenario steps, on one phone and its vendor, for files and tests.

A driver owns a :class:`~phone_sim.simulation.Simulation` (a phone on a fixed simulated clock
and, unless told otherwise, an embedded vendor server sharing that clock) and always routes the
phone through a :class:`~phone_sim.faults.FaultProxy`, so that faults can be switched per step
and the server can be restarted behind the same URL.

Every verb returns a short account of what happened (the scenario runner prints it) and raises
:class:`DriverError` when it cannot be done. The phone behaves as it would with a person
holding it: after a SIM change, a reboot or regained network it checks in at once.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Self

from phone_sim.device.errors import PhoneError
from phone_sim.device.events import VerdictOutcome
from phone_sim.device.sims import Network, Sim, network_for
from phone_sim.device.sims import carrier as find_carrier
from phone_sim.device.state import DeviceState
from phone_sim.device.status import status_text
from phone_sim.faults import FaultProxy
from phone_sim.simulation import Simulation
from server_stub.admin.client import AdminClientError
from server_stub.errors import VendorServerError

from .errors import DriverError
from .expectations import mask_ports
from .model import DEFAULT_TIMEOUT, DeviceSpec
from .outcomes import describe_outcomes
from .vendor_verbs import VendorVerbs
from .world import RemoteServer, open_world

__all__ = ["PhoneDriver", "RemoteServer"]


class PhoneDriver(VendorVerbs):
    def __init__(self, sim: Simulation, proxy: FaultProxy, *, embedded: bool) -> None:
        self.sim = sim
        self.phone = sim.phone
        self.proxy = proxy
        self.embedded = embedded
        self._down = False

    @classmethod
    def open(
        cls,
        data_dir: Path,
        *,
        device: DeviceSpec | None = None,
        policy_text: str | None = None,
        seed: int = 0,
        start: float | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        server: RemoteServer | None = None,
    ) -> PhoneDriver:
        """A new phone in ``data_dir`` (created), off, on an embedded server or ``server``."""
        try:
            sim = open_world(
                data_dir,
                device or DeviceSpec(),
                policy_text=policy_text,
                seed=seed,
                start=start,
                server=server,
            )
        except (PhoneError, OSError, VendorServerError) as exc:
            raise DriverError(f"cannot set up the phone: {mask_ports(str(exc))}") from exc
        upstream = sim.server.url if sim.server is not None else (server.url if server else "")
        proxy = FaultProxy(upstream).start()
        sim.client.base_url = proxy.url
        sim.client.timeout = timeout
        driver = cls(sim, proxy, embedded=server is None)
        if server is not None and policy_text is not None:
            try:
                driver.policy_change(policy_text)
            except DriverError:
                driver.close()
                raise
        return driver

    def close(self) -> None:
        self.proxy.close()
        self.sim.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- what a test reads ------------------------------------------------------------------

    @property
    def state(self) -> DeviceState:
        return self.phone.state

    @property
    def lock_reason(self) -> str:
        return self.phone.lock_reason

    @property
    def lock_message(self) -> str:
        return self.phone.lock_message

    @property
    def last_error(self) -> str | None:
        return self.phone.last_error

    @property
    def status_bar(self) -> str:
        return status_text(self.phone)

    # --- the phone --------------------------------------------------------------------------

    def _do(self, action: Callable[[], object]) -> None:
        try:
            action()
        except PhoneError as exc:
            raise DriverError(f"the phone refused: {exc}") from exc

    def _live(self, done: str) -> str:
        """``done``, plus what the check-ins that are due now (the phone would make them) said."""
        outcomes = self.sim.run_due()
        return done + (
            f"; checked in: {describe_outcomes(self.phone, outcomes)}" if outcomes else ""
        )

    def boot(self) -> str:
        self._do(self.phone.power_on)
        self._do(self.phone.finish_boot)
        return self._live(f"screen {self.screen}")

    def power_off(self) -> str:
        self._do(self.phone.power_off)
        return "off"

    def reboot(self) -> str:
        self._do(self.phone.reboot)
        self._do(self.phone.finish_boot)
        return self._live(f"screen {self.screen}")

    def factory_reset(self) -> str:
        self._do(self.phone.factory_reset)
        self._do(self.phone.finish_boot)
        return f"data erased; screen {self.screen}"

    def insert_sim(
        self,
        slot: int,
        carrier: str | None = None,
        mcc: str | None = None,
        mnc: str | None = None,
        iccid: str | None = None,
        card: int = 1,
    ) -> str:
        """A catalogue carrier's SIM, or a custom one by MCC/MNC (optional ICCID)."""
        try:
            if carrier is not None:
                net = find_carrier(carrier)
                mcc, mnc = net.mcc, net.mnc
            if mcc is None or mnc is None:
                raise DriverError("insert_sim needs a carrier, or an mcc and an mnc")
            sim = Sim.custom(mcc, mnc, iccid=iccid, card=card)
        except PhoneError as exc:
            raise DriverError(str(exc)) from exc
        self._do(lambda: self.phone.insert_sim(slot, sim))
        return self._live(f"SIM {slot}: {sim.label} ({sim.home.code})")

    def remove_sim(self, slot: int) -> str:
        self._do(lambda: self.phone.remove_sim(slot))
        return self._live(f"slot {slot} empty")

    def swap_sims(self) -> str:
        self._do(self.phone.swap_sims)
        labels = [v.sim.label if v.sim else "empty" for v in self.phone.slots]
        return self._live(f"slot 1: {labels[0]}, slot 2: {labels[1]}")

    def roam(
        self,
        slot: int,
        carrier: str | None = None,
        mcc: str | None = None,
        mnc: str | None = None,
        home: bool = False,
    ) -> str:
        """Camp ``slot``'s SIM on another network; no network (or ``home``) goes back home."""
        network: Network | None = None
        try:
            if carrier is not None:
                network = find_carrier(carrier)
            elif mcc is not None and mnc is not None and not home:
                network = network_for(mcc, mnc)
        except PhoneError as exc:
            raise DriverError(str(exc)) from exc
        self._do(lambda: self.phone.roam(slot, network))
        where = "its home network" if network is None else f"{network.name} ({network.code})"
        return self._live(f"SIM {slot} on {where}")

    def airplane(self, on: bool) -> str:
        self._do(lambda: self.phone.set_airplane(on))
        return self._live("airplane mode " + ("on" if on else "off"))

    def advance(
        self, seconds: float = 0, *, minutes: float = 0, hours: float = 0, days: float = 0
    ) -> str:
        """Let simulated time pass, stopping at each check-in the phone makes on the way."""
        total = seconds + minutes * 60 + hours * 3600 + days * 86400
        if total <= 0:
            raise DriverError("advance needs a time > 0")
        try:
            outcomes = self.sim.advance(total)
        except AdminClientError as exc:
            raise DriverError(f"cannot move the server's clock: {mask_ports(str(exc))}") from exc
        n = len(outcomes)
        done = f"{n} check-in{'s' if n != 1 else ''}"
        return done + (f": {describe_outcomes(self.phone, outcomes)}" if outcomes else "")

    def activate(self) -> str:
        """Finish setup: ask the vendor (a custom ROM has no vendor client and just finishes)."""
        if self.phone.identity.custom_rom:
            self._do(self.phone.finish_setup_without_vendor)
            return f"no vendor client (custom ROM); screen {self.screen}"
        if self.phone.state is not DeviceState.SETUP:
            raise DriverError(f"activate needs the setup screen; the phone is {self.phone.state}")
        outcome = self._send()
        return describe_outcomes(self.phone, [outcome]) + f"; screen {self.screen}"

    def _send(self) -> VerdictOutcome:
        try:
            return self.sim.activate()
        except PhoneError as exc:
            raise DriverError(f"the phone refused: {exc}") from exc

    def check_in(self) -> str:
        """Ask the vendor now, as *Retry* on the lock screen does."""
        if self.phone.identity.custom_rom:
            return "no vendor client (custom ROM): nothing to ask"
        if self.phone.state not in (DeviceState.ACTIVATED, DeviceState.LOCKED):
            raise DriverError(
                f"check_in needs an activated or locked phone; it is {self.phone.state}"
            )
        self.phone.retry()
        outcomes = self.sim.run_due()
        return describe_outcomes(self.phone, outcomes) + f"; screen {self.screen}"
