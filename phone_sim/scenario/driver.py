"""PhoneDriver: the verbs of scenario steps on one phone of a world, for files and tests.

A driver belongs to a :class:`~phone_sim.scenario.world.ScenarioWorld` (a world on simulated
time behind a fault proxy). Phone verbs act on its phone through the phone's public methods;
time and the vendor's verbs act on the world, and a driver offers them too, so a test of one
phone reads as one object (``phone.advance(days=3)``, ``phone.operator_release(...)``).

Every verb returns a short account of what happened (the scenario runner prints it) and raises
:class:`DriverError` when it cannot be done. The phone behaves as it would with a person
holding it: after a SIM change, a reboot or regained network it checks in at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Self

from phone_sim.device.errors import PhoneError
from phone_sim.device.phone import Phone
from phone_sim.device.provisioning import PhoneSpec
from phone_sim.device.screens import Screen, screen_for
from phone_sim.device.sims import Network, Sim, network_for
from phone_sim.device.sims import carrier as find_carrier
from phone_sim.device.state import DeviceState
from phone_sim.device.status import status_text
from phone_sim.faults import FaultMode
from phone_sim.world.phones import WorldPhone
from server_stub.runtime.embedded import EmbeddedVendorServer

from .errors import DriverError, ExpectationFailed
from .expectations import Check, Subject, expect
from .model import DEFAULT_TIMEOUT
from .outcomes import describe_outcomes
from .world import RemoteServer, ScenarioWorld, Start

__all__ = ["PhoneDriver", "RemoteServer", "phone_spec"]


class PhoneDriver:
    def __init__(self, world: ScenarioWorld, world_phone: WorldPhone) -> None:
        self.world = world
        self.world_phone = world_phone
        self.phone: Phone = world_phone.phone
        self._subject = Subject(self.phone, lambda: world.vendor.admin)

    @classmethod
    def open(
        cls,
        data_dir: Path,
        *,
        device: PhoneSpec | None = None,
        policy_text: str | None = None,
        seed: int = 0,
        start: Start | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        server: RemoteServer | EmbeddedVendorServer | None = None,
    ) -> PhoneDriver:
        """A one-phone world in ``data_dir``: a new phone (off), on an embedded server or
        ``server``. Closing the driver closes its world."""
        world = ScenarioWorld.open(
            data_dir,
            policy_text=policy_text,
            seed=seed,
            start=start,
            timeout=timeout,
            server=server,
        )
        try:
            return world.phone(spec=phone_spec(device))
        except BaseException:
            world.close()
            raise

    @property
    def name(self) -> str:
        return self.world_phone.name

    def close(self) -> None:
        """Close the driver's world (every phone of it)."""
        self.world.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- what a test reads ------------------------------------------------------------------

    @property
    def state(self) -> DeviceState:
        return self.phone.state

    @property
    def screen(self) -> Screen:
        """The screen the TUI shows now: ``off``, ``boot``, ``setup``, ``home`` or ``lock``."""
        return screen_for(self.phone.state)

    @property
    def serial(self) -> str:
        return self.phone.identity.serial

    @property
    def imeis(self) -> tuple[str, ...]:
        return self.phone.identity.imeis

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

    def expect(self, key: str, value: Any) -> Check:
        """The check a scenario's ``expect.KEY = VALUE`` names, on this phone."""
        return expect(self._subject, key, value)

    # One method per expectation key, ``(ok, detail)``, as a test reads them.

    def expect_state(self, state: DeviceState | str) -> Check:
        return self.expect("state", state)

    def expect_screen(self, screen: str) -> Check:
        return self.expect("screen", screen)

    def expect_verdict_reason(self, reason: str) -> Check:
        return self.expect("verdict_reason", reason)

    def expect_lock_message_contains(self, text: str) -> Check:
        return self.expect("lock_message_contains", text)

    def expect_status_bar_contains(self, text: str) -> Check:
        return self.expect("status_bar_contains", text)

    def expect_last_error_contains(self, text: str) -> Check:
        return self.expect("last_error_contains", text)

    def expect_warning(self, shown: bool) -> Check:
        return self.expect("warning", shown)

    def expect_warning_contains(self, text: str) -> Check:
        return self.expect("warning_contains", text)

    def expect_server_state(self, state: str) -> Check:
        return self.expect("server_state", state)

    def expect_audit(self, **fields: str | None) -> Check:
        """An audit entry with every field given (kind, rule, reason, status, actor) exists."""
        return self.expect("audit", fields)

    def check(self, **expectations: Any) -> None:
        """Assert every expectation (``screen="lock", verdict_reason="..."``) at once.

        Raises:
            ExpectationFailed: naming each one that did not hold and what was found.
        """
        failed = []
        for key, value in expectations.items():
            ok, detail = self.expect(key, value)
            if not ok:
                failed.append(f"{key}={value!r}: {detail}")
        if failed:
            raise ExpectationFailed("; ".join(failed))

    # --- the phone --------------------------------------------------------------------------

    def _do(self, action: Callable[[], object]) -> None:
        try:
            action()
        except PhoneError as exc:
            raise DriverError(f"the phone refused: {exc}") from exc

    def _live(self, done: str) -> str:
        """``done``, plus what the check-ins that are due now (the phone would make them) said."""
        outcomes = self.world_phone.run_due()
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

    def activate(self) -> str:
        """Finish setup: ask the vendor (a custom ROM has no vendor client and just finishes)."""
        if self.phone.identity.custom_rom:
            self._do(self.phone.finish_setup_without_vendor)
            return f"no vendor client (custom ROM); screen {self.screen}"
        if self.phone.state is not DeviceState.SETUP:
            raise DriverError(f"activate needs the setup screen; the phone is {self.phone.state}")
        try:
            outcome = self.world_phone.activate()
        except PhoneError as exc:
            raise DriverError(f"the phone refused: {exc}") from exc
        return describe_outcomes(self.phone, [outcome]) + f"; screen {self.screen}"

    def check_in(self) -> str:
        """Ask the vendor now, as *Retry* on the lock screen does."""
        if self.phone.identity.custom_rom:
            return "no vendor client (custom ROM): nothing to ask"
        if self.phone.state not in (DeviceState.ACTIVATED, DeviceState.LOCKED):
            raise DriverError(
                f"check_in needs an activated or locked phone; it is {self.phone.state}"
            )
        self.phone.retry()
        outcomes = self.world_phone.run_due()
        return describe_outcomes(self.phone, outcomes) + f"; screen {self.screen}"

    # --- the world's verbs, from this phone -------------------------------------------------

    def advance(
        self, seconds: float = 0, *, minutes: float = 0, hours: float = 0, days: float = 0
    ) -> str:
        """Let the world's time pass (every phone of it checks in on the way)."""
        return self.world.advance(seconds, minutes=minutes, hours=hours, days=days)

    def server_down(self) -> str:
        return self.world.vendor.server_down()

    def server_up(self) -> str:
        return self.world.vendor.server_up()

    def server_fault(self, mode: FaultMode | str, seconds: float = 0) -> str:
        return self.world.vendor.server_fault(mode, seconds)

    def _ident(self, by: str) -> str:
        idents = {"serial": self.serial, "imei": self.imeis[0], "imei2": self.imeis[-1]}
        if by not in idents:
            raise DriverError(f"by must be serial, imei or imei2, not {by!r}")
        return idents[by]

    def operator_lock(self, reason: str, message: str | None = None, by: str = "serial") -> str:
        """An investigation hold on this phone (by its serial or one of its IMEIs)."""
        return self.world.vendor.lock(self._ident(by), reason, message)

    def operator_release(self, reason: str, by: str = "serial") -> str:
        return self.world.vendor.release(self._ident(by), reason)

    def operator_release_all(self, reason: str) -> str:
        text, released = self.world.vendor.release_all(reason)
        mine = "this phone among them" if self.serial in released else "not this phone"
        return f"{text}, {mine}"

    def policy_change(
        self,
        text: str | None = None,
        *,
        file: Path | None = None,
        overrides: Mapping[str, Any] | None = None,
    ) -> str:
        return self.world.vendor.policy_change(text, file=file, overrides=overrides)


def phone_spec(device: PhoneSpec | None) -> PhoneSpec:
    """What the world's factory builds for a scenario's device (the default phone if None)."""
    return device or PhoneSpec()
