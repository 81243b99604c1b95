"""A world as scenarios and tests drive it: the world, a fault proxy, a driver per phone.

:class:`ScenarioWorld` opens a :class:`~phone_sim.world.World` on simulated time (an embedded
vendor, or a server given by URL: :class:`RemoteServer`). From the first fault or the first
time the server goes down, it routes every phone through one
:class:`~phone_sim.faults.FaultProxy`, so faults can be switched per step and the embedded
server can be restarted behind the same URL. Each phone gets a
:class:`~phone_sim.scenario.driver.PhoneDriver` (``world.phone("alice")``); the vendor's verbs
act on the world (:attr:`ScenarioWorld.vendor`), and so does time (:meth:`ScenarioWorld.advance`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Self

from phone_sim.device.errors import PhoneError
from phone_sim.device.provisioning import PhoneSpec
from phone_sim.faults import FaultProxy
from phone_sim.protocol.clock import STORY_START, TimeNotControllable
from phone_sim.world.phones import FIRST_PHONE
from phone_sim.world.vendor import AttachedVendor, RemoteVendor
from phone_sim.world.world import World, open_world
from server_stub.errors import VendorServerError
from server_stub.runtime.embedded import EmbeddedVendorServer

from .errors import DriverError, NotAvailable
from .model import DEFAULT_TIMEOUT
from .outcomes import describe_outcomes
from .subject import mask_ports
from .vendor_verbs import VendorDriver

if TYPE_CHECKING:
    from .driver import PhoneDriver

#: where the scenario's policy is written for the embedded server to install at start
POLICY_FILE = "scenario-policy.toml"
#: what ``start`` may be given as: Unix seconds, a datetime, or an ISO 8601 string
Start = float | int | dt.datetime | str


@dataclasses.dataclass(frozen=True)
class RemoteServer:
    """A vendor server the driver does not run (``--server``): where it is and what it trusts."""

    url: str
    vendor_key: Path
    factory_dir: Path
    admin_token: str | None = None


def start_seconds(start: Start | None) -> float | None:
    """``start`` as Unix seconds: seconds, an aware or naive (UTC) datetime, or ISO 8601.

    Raises:
        DriverError: anything else, at once, saying what is accepted.
    """
    if start is None:
        return None
    if isinstance(start, bool):
        raise DriverError(
            f"start must be Unix seconds, a datetime or an ISO 8601 string: {start!r}"
        )
    if isinstance(start, int | float):
        return float(start)
    if isinstance(start, str):
        try:
            start = dt.datetime.fromisoformat(start.replace("Z", "+00:00"))
        except ValueError:
            raise DriverError(
                f"start {start!r} is not an ISO 8601 time (e.g. 2021-09-01T12:00:00Z)"
            ) from None
    if isinstance(start, dt.datetime):
        if start.tzinfo is None:
            start = start.replace(tzinfo=dt.UTC)
        return start.timestamp()
    raise DriverError(
        f"start must be Unix seconds, a datetime or an ISO 8601 string, not {type(start).__name__}"
    )


class ScenarioWorld:
    """One world for a scenario or a test; close it (or use ``with``) to stop what it started."""

    def __init__(self, world: World, *, embedded: bool) -> None:
        self.world = world
        self.embedded = embedded
        self._proxy: FaultProxy | None = None
        self.vendor = VendorDriver(world, lambda: self.proxy, embedded=embedded)
        self.drivers: dict[str, PhoneDriver] = {}
        #: why the scenario's policy could not be installed (a server without the admin API)
        self.policy_skipped: str | None = None

    @property
    def proxy(self) -> FaultProxy:
        """The fault proxy: started the first time it is asked for (a fault, the server going
        down), and from then on between every phone of the world and the vendor.

        Until then phones talk to the vendor directly, over one kept-alive connection each: the
        proxy's own HTTP server, a thread and a new upstream connection per request cost a
        world without faults more than its exchanges did
        (``docs/decisions/fault-proxy-only-when-asked.md``).
        """
        if self._proxy is None:
            self._proxy = FaultProxy(self.world.vendor.url).start()
            self.world.point_phones_at(self._proxy.url)
        return self._proxy

    @classmethod
    def open(
        cls,
        data_dir: Path,
        *,
        policy_text: str | None = None,
        seed: int = 0,
        start: Start | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        server: RemoteServer | EmbeddedVendorServer | None = None,
    ) -> ScenarioWorld:
        """A new world in ``data_dir`` (created), on an embedded vendor or ``server`` (one at a
        URL, or a vendor server already running in this process, whose time it shares)."""
        begin = start_seconds(start)
        if server is not None and begin is not None:
            raise DriverError("a world on a vendor server takes the server's time: no start")
        data_dir.mkdir(parents=True, exist_ok=True)
        try:
            if server is None:
                policy_path = None
                if policy_text is not None:
                    policy_path = data_dir / POLICY_FILE
                    policy_path.write_text(policy_text, encoding="utf-8")
                world = open_world(
                    data_dir,
                    start=STORY_START if begin is None else begin,
                    speed=0,  # time moves only when a step moves it
                    policy_path=policy_path,
                    seed=seed,
                    timeout=timeout,
                )
            elif isinstance(server, EmbeddedVendorServer):
                world = open_world(
                    data_dir,
                    vendor=AttachedVendor(server),
                    factory_dir=server.settings.factory_root_path.parent,
                    seed=seed,
                    timeout=timeout,
                )
            else:
                vendor = RemoteVendor(server.url, server.vendor_key, server.admin_token)
                world = open_world(
                    data_dir,
                    vendor=vendor,
                    factory_dir=server.factory_dir,
                    seed=seed,
                    timeout=timeout,
                )
        except (PhoneError, OSError, VendorServerError) as exc:
            raise DriverError(f"cannot set up the world: {mask_ports(str(exc))}") from exc
        opened = cls(world, embedded=server is None)
        if server is not None and policy_text is not None:
            try:
                opened.vendor.policy_change(policy_text)
            except NotAvailable as exc:
                # The world opens all the same: the runner skips what depends on the policy.
                opened.policy_skipped = f"the scenario's policy is not installed: {exc}"
            except DriverError:
                opened.close()
                raise
        return opened

    # --- phones ---------------------------------------------------------------------------

    def phone(
        self,
        name: str = FIRST_PHONE,
        spec: PhoneSpec | None = None,
        *,
        model: str | None = None,
        market: str | None = None,
        bootloader: str = "locked",
        custom_rom: bool = False,
    ) -> PhoneDriver:
        """The phone called ``name``: a new phone from the factory (off) the first time.

        ``spec``, or ``model``/``market``/``bootloader`` ("locked" or "unlocked")/``custom_rom``,
        say which phone the factory builds (default a Global Redmi Note 9).
        """
        from .driver import PhoneDriver  # the driver imports this module for its world

        driver = self.drivers.get(name)
        if driver is None:
            if spec is None:
                default = PhoneSpec()
                spec = PhoneSpec(
                    model or default.model,
                    market or default.market,
                    bootloader == "unlocked" or custom_rom,
                    custom_rom,
                )
            try:
                world_phone = self.world.add_phone(name, spec, new=True)
            except (PhoneError, OSError, ValueError) as exc:
                raise DriverError(f"cannot make phone {name!r}: {mask_ports(str(exc))}") from exc
            if self._proxy is not None:
                world_phone.client.base_url = self._proxy.url
            driver = PhoneDriver(self, world_phone)
            self.drivers[name] = driver
        return driver

    def __iter__(self) -> Iterator[PhoneDriver]:
        return iter(self.drivers.values())

    # --- time -------------------------------------------------------------------------------

    def now(self) -> float:
        return self.world.clock.now()

    def advance(
        self, seconds: float = 0, *, minutes: float = 0, hours: float = 0, days: float = 0
    ) -> str:
        """Let the world's time pass; every phone checks in on the way as it would."""
        total = seconds + minutes * 60 + hours * 3600 + days * 86400
        if total <= 0:
            raise DriverError("advance needs a time > 0")
        try:
            outcomes = self.world.advance(total)
        except TimeNotControllable as exc:
            raise NotAvailable(f"time cannot move: {mask_ports(str(exc))}") from exc
        parts = []
        for name, done in outcomes.items():
            n = len(done)
            text = f"{n} check-in{'s' if n != 1 else ''}"
            if done:
                text += f": {describe_outcomes(self.world.phone(name).phone, done)}"
            parts.append(text if len(outcomes) == 1 else f"{name}: {text}")
        return "; ".join(parts) if parts else "no phone"

    # --- life -------------------------------------------------------------------------------

    def close(self) -> None:
        if self._proxy is not None:
            self._proxy.close()
        self.world.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
