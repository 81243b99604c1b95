"""A world from the command line's options (``phone-sim``, ``phone-sim serve``).

With no ``--server`` the world is the one kept in ``--data``: an embedded vendor over
``DATA/vendor`` on simulated time, resumed where it was left. With ``--server URL`` the phones
join that vendor; what they need of it is read from the data directory when it holds the
vendor's (``make serve-vendor`` keeps its data in ``DATA/vendor`` and its factory in
``DATA/factory``), or given by options: the public key phones pin, the factory that makes them,
and the admin token that makes this process the operator (the console, and moving time).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from phone_sim.device.errors import PhoneError
from phone_sim.device.provisioning import PhoneSpec
from phone_sim.device.storage import DeviceStorage
from phone_sim.protocol.clock import STORY_START
from server_stub.errors import VendorServerError

from .errors import LaunchError
from .phones import FIRST_PHONE
from .vendor import RemoteVendor
from .world import World, open_world

#: where worlds made before the vendor kept the time left it (``{"now": ...}``)
LEGACY_CLOCK = "clock.json"


@dataclass(frozen=True)
class WorldOptions:
    data: Path
    server: str | None = None
    vendor_key: Path | None = None
    admin_token_file: Path | None = None
    factory: Path | None = None
    model: str = "Redmi Note 9"
    market: str = "MI"
    unlocked: bool = False
    custom_rom: bool = False
    new_phone: bool = False
    phones: int = 1
    speed: int | None = None
    start: float | None = None
    seed: int | None = None
    #: the embedded vendor serves once ``world.vendor.serve()`` is called (the TUI: after its
    #: first frame); its port is taken at once
    serve_later: bool = False

    @property
    def spec(self) -> PhoneSpec:
        return PhoneSpec(
            model=self.model,
            market=self.market,
            bootloader_unlocked=self.unlocked or self.custom_rom,
            custom_rom=self.custom_rom,
        )


def phone_names(count: int) -> list[str]:
    """``phone``, ``phone-2``, ``phone-3``, ...: the names of a world's first ``count`` phones."""
    return [FIRST_PHONE, *(f"phone-{n}" for n in range(2, count + 1))]


def kept_phone_names(data: Path) -> list[str]:
    """The phones beyond the first that the world in ``data`` already has (``DATA/phones/NAME``,
    made by ``--phones`` or the palette's *Add a phone*), in the order they were named: a
    restart brings them back, so none is forgotten and then made again over its data.
    """
    folder = data / "phones"
    if not folder.is_dir():
        return []
    names = [d.name for d in folder.iterdir() if DeviceStorage(d).is_provisioned()]
    return sorted(names, key=_naming_order)


def _naming_order(name: str) -> tuple[str, int]:
    """``phone-2`` before ``phone-10``; other names by their spelling."""
    head, _, number = name.rpartition("-")
    return (head, int(number)) if head and number.isdigit() else (name, 0)


def launch(options: WorldOptions) -> World:
    """Open the world the options describe, with its phones (closed by the caller): the
    first ``options.phones``, and every other phone the world already has.

    Raises:
        LaunchError: what is missing or wrong, and what to do about it.
    """
    if options.phones < 1:
        raise LaunchError(f"--phones must be at least 1, not {options.phones}")
    data = options.data
    try:
        if options.server is None:
            world = open_world(
                data,
                start=options.start if options.start is not None else _legacy_start(data),
                speed=options.speed,
                seed=options.seed,
                serve_later=options.serve_later,
            )
        else:
            world = _join(options)
    except (PhoneError, VendorServerError, OSError) as exc:
        raise LaunchError(str(exc)) from exc
    names = phone_names(options.phones)
    names += [name for name in kept_phone_names(data) if name not in names]
    try:
        for index, name in enumerate(names):
            world.add_phone(name, options.spec, new=options.new_phone and index == 0)
    except (PhoneError, OSError, ValueError) as exc:
        world.close()
        raise LaunchError(str(exc)) from exc
    return world


def _join(options: WorldOptions) -> World:
    assert options.server is not None
    data = options.data
    if options.start is not None or options.speed is not None:
        raise LaunchError(
            "--start and --speed set the embedded vendor's clock; a vendor at --server keeps "
            "its own (vendor-server serve --clock simulated --speed N)"
        )
    vendor_key = options.vendor_key or data / "vendor" / "vendor.pub"
    if not vendor_key.exists():
        raise LaunchError(
            f"--server needs the vendor public key phones pin: {vendor_key} does not exist "
            "(give --vendor-key, or --data the directory whose vendor/ the server keeps)"
        )
    factory = options.factory or data / "factory"
    if not (factory / "root.pem").exists():
        raise LaunchError(
            f"--server needs the factory the vendor trusts: {factory}/root.pem does not exist "
            "(give --factory, or --data the directory `vendor-server serve --init-factory` "
            "made it in)"
        )
    token_file = options.admin_token_file
    if token_file is None and (data / "vendor" / "admin.token").exists():
        token_file = data / "vendor" / "admin.token"
    token = None
    if token_file is not None:
        from server_stub.admin.client import read_token_file

        try:
            token = read_token_file(token_file)
        except VendorServerError as exc:
            raise LaunchError(str(exc)) from exc
    vendor = RemoteVendor(options.server, vendor_key, token)
    return open_world(data, vendor=vendor, factory_dir=factory, seed=options.seed)


def _legacy_start(data: Path) -> float | None:
    """Where a world made by an earlier version left its time, if it kept it beside the phone."""
    path = data / LEGACY_CLOCK
    if not path.exists() or (data / "vendor" / "clock.json").exists():
        return None
    try:
        value = json.loads(path.read_bytes())["now"]
    except (ValueError, KeyError, TypeError, OSError):
        return None
    return float(value) if isinstance(value, int | float) and value >= STORY_START else None
