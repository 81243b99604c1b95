"""The world: one vendor and any number of phones on one time, and the one stepping loop.

Layout of a world's data directory::

    DATA/factory/        the factory CA (root.pem, which the vendor trusts)
    DATA/vendor/         the embedded vendor's key, database, policy and clock
    DATA/phone/          the first phone's identity, keys and state
    DATA/phones/NAME/    each other phone's

Time passes through :meth:`World.advance` (headless: a whole span at once) or
:meth:`World.move_toward` (one step; the TUI takes one per tick and runs the check-ins of the
step in its workers). Both step the same way: to the next check-in due on the way, so three
days hold three daily check-ins of every phone, as they would in real time.
"""

from __future__ import annotations

import random
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from phone_sim.device.events import VerdictOutcome
from phone_sim.device.provisioning import PhoneSpec
from phone_sim.protocol.clock import ClockMode, WorldClock
from server_stub.datadir.settings import ServerSettings

from .phones import FIRST_PHONE, WorldPhone, open_phone
from .vendor import EmbeddedVendor, Vendor

if TYPE_CHECKING:
    from phone_sim.protocol.identity import Factory
    from server_stub.admin.client import AdminClient

__all__ = ["World", "open_world"]

#: the most check-ins one phone makes at one instant (a vendor asking back at once, forever)
MAX_DUE = 10


@dataclass
class World:
    data_dir: Path
    vendor: Vendor
    #: the factory CA phones are made by (``DATA/factory``): see :attr:`factory`
    factory_dir: Path
    phones: dict[str, WorldPhone] = field(default_factory=dict)
    #: seed of the phones' serials and IMEIs (None: random; nonces are always random)
    seed: int | None = None
    #: real seconds a phone waits for the vendor (None: the client's default)
    timeout: float | None = None
    _closed: bool = field(default=False, repr=False)
    #: this run, for the identities of phones on a vendor elsewhere
    _run: str = field(default_factory=lambda: secrets.token_hex(6), repr=False)

    @cached_property
    def factory(self) -> Factory:
        """The factory, read when a phone is first made: opening phones that exist needs no
        certificate machinery (x509 and the chain verifier load here), and a first frame makes
        no phone (docs/decisions/tui-first-frame-imports.md)."""
        from phone_sim.protocol.identity import Factory

        return Factory.open(self.factory_dir)

    @property
    def clock(self) -> WorldClock:
        """The world's time: the vendor's."""
        return self.vendor.clock

    @property
    def admin(self) -> AdminClient | None:
        """The vendor's admin API (the operator's side), when its token is at hand."""
        return self.vendor.admin

    @property
    def can_advance(self) -> bool:
        return self.clock.mode is ClockMode.SIMULATED

    def __iter__(self) -> Iterator[WorldPhone]:
        return iter(self.phones.values())

    def phone(self, name: str = FIRST_PHONE) -> WorldPhone:
        return self.phones[name]

    # --- phones --------------------------------------------------------------------------

    def add_phone(
        self, name: str = FIRST_PHONE, spec: PhoneSpec | None = None, *, new: bool = False
    ) -> WorldPhone:
        """The phone called ``name`` (its own data directory; made by the factory if new)."""
        if name in self.phones:
            raise ValueError(f"this world already has a phone called {name!r}")
        if not name or not all(c.isalnum() or c in "-_" for c in name):
            raise ValueError(f"a phone's name is letters, digits, - and _: not {name!r}")
        rng = None
        if self.seed is not None:
            # Each phone its own stream, the same from run to run. A vendor elsewhere outlives
            # the run and may be shared: its phones get serials and IMEIs of their own each
            # run, or a second run would meet the first one's device and its decision.
            salt = "" if self.vendor.local_clock else f":{self._run}"
            rng = random.Random(f"{self.seed}:{name}{salt}")  # noqa: S311 - simulated ids
        world_phone = open_phone(
            name,
            self.data_dir,
            factory=lambda: self.factory,
            url=self.vendor.url,
            vendor_key=self.vendor.vendor_key,
            clock=self.clock,
            shared_clock=self.vendor.local_clock,
            spec=spec,
            new=new,
            rng=rng,
            timeout=self.timeout,
        )
        self.phones[name] = world_phone
        return world_phone

    def point_phones_at(self, url: str) -> None:
        """Every phone talks to ``url`` from now on (a proxy, or the vendor started again)."""
        for world_phone in self:
            world_phone.client.base_url = url.rstrip("/")

    # --- time: the one stepping loop ------------------------------------------------------

    def run_due(self) -> dict[str, list[VerdictOutcome]]:
        """Every phone applies its offline rule and makes the check-ins due now (blocking)."""
        return {p.name: p.run_due(limit=MAX_DUE) for p in self}

    def next_stop(self, target: float) -> float:
        """Where the next step toward ``target`` ends: the first check-in due on the way."""
        now = self.clock.now()
        dues = [
            due
            for p in self
            if (due := p.phone.next_checkin_at) is not None and now < due <= target
        ]
        return min(dues, default=target)

    def move_toward(self, target: float) -> bool:
        """Move the world's time one step toward ``target``; True once it is reached.

        Raises:
            TimeNotControllable: this world's time cannot be moved (says why).
        """
        stop = self.next_stop(target)
        now = self.clock.now()
        if stop > now:
            self.clock.advance(stop - now)
        if not self.vendor.local_clock:
            # Phones with clocks of their own learn of the move from the vendor's signed time.
            for world_phone in self:
                world_phone.phone.want_time("the world's time moved")
        return stop >= target

    def advance(self, seconds: float) -> dict[str, list[VerdictOutcome]]:
        """Let ``seconds`` of the world's time pass, each phone checking in when it would.

        Raises:
            TimeNotControllable: at once, before anything moved, if time cannot move here.
        """
        if seconds <= 0:
            raise ValueError("time only moves forward")
        if not self.can_advance:
            self.clock.advance(seconds)  # raises, saying why
        target = self.clock.now() + seconds
        outcomes = self.run_due()
        while True:
            reached = self.move_toward(target)
            for name, done in self.run_due().items():
                outcomes[name] = outcomes.get(name, []) + done
            if reached:
                return outcomes

    # --- life ---------------------------------------------------------------------------

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.vendor.close()

    def __enter__(self) -> World:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def embedded_settings(
    data_dir: Path,
    *,
    start: float | None = None,
    speed: float | None = None,
    policy_path: Path | None = None,
) -> ServerSettings:
    """The settings of a world's embedded vendor: simulated time, loopback, any free port.

    A new world starts at ``start`` (default: the story's start); one with history resumes its
    own time (and refuses an earlier ``start``).
    """
    return ServerSettings(
        data_dir=data_dir / "vendor",
        factory_root=data_dir / "factory" / "root.pem",
        port=0,
        policy_path=policy_path,
        clock_mode=ClockMode.SIMULATED,
        clock_start=start,
        clock_speed=speed,
    )


def open_world(
    data_dir: Path,
    *,
    vendor: Vendor | None = None,
    start: float | None = None,
    speed: float | None = None,
    policy_path: Path | None = None,
    factory_dir: Path | None = None,
    seed: int | None = None,
    timeout: float | None = None,
    serve_later: bool = False,
) -> World:
    """Open (creating on first use) the world kept in ``data_dir``, with no phone yet.

    Without ``vendor`` our server is embedded on loopback over ``DATA/vendor``, on simulated
    time (``start``, ``speed``: see :func:`embedded_settings`); ``policy_path`` is installed as
    its policy at start. ``factory_dir``: the factory phones are made by (default
    ``DATA/factory``; for a vendor elsewhere, the factory that vendor trusts is copied there).
    ``serve_later``: the embedded vendor takes its port now and serves from ``vendor.serve()``
    (:class:`~phone_sim.world.vendor.EmbeddedVendor`).

    Raises:
        ClockHistoryError: ``start`` lies before the history the directory holds.
    """
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    local_factory = data_dir / "factory"
    elsewhere = factory_dir is not None and factory_dir.resolve() != local_factory.resolve()
    if elsewhere and factory_dir is not None and not local_factory.exists():
        shutil.copytree(factory_dir, local_factory)
    made = None
    if not (local_factory / "root.pem").exists():
        # A new world's factory is made with it, before its vendor, which trusts the factory's
        # root from its first start. An existing one is read when a phone is first made.
        from phone_sim.protocol.identity import Factory

        made = Factory.open(local_factory)
    if vendor is None:
        vendor = EmbeddedVendor(
            embedded_settings(data_dir, start=start, speed=speed, policy_path=policy_path),
            serve=not serve_later,
        )
    world = World(
        data_dir=data_dir, vendor=vendor, factory_dir=local_factory, seed=seed, timeout=timeout
    )
    if made is not None:
        world.__dict__["factory"] = made  # the cached property, already known
    return world
