"""The factory line: give a new simulated phone its identity, key pair and certificate."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric import ec

from phone_sim.protocol.imei import make_imei

from .catalogue import market as lookup_market
from .catalogue import model as lookup_model
from .errors import UnknownCatalogueEntry
from .identity import DeviceIdentity
from .storage import DeviceStorage

if TYPE_CHECKING:
    # x509 and the chain verifier load when a phone is made, not when one is opened
    # (docs/decisions/tui-first-frame-imports.md)
    from phone_sim.protocol.identity import Factory


@dataclass(frozen=True)
class PhoneSpec:
    """Which phone the factory builds: model, market, bootloader, ROM (the default: a Global
    Redmi Note 9). Worlds, scenario files and the pytest plugin all describe phones with it."""

    model: str = "Redmi Note 9"
    market: str = "MI"
    bootloader_unlocked: bool = False
    custom_rom: bool = False

    def describe(self) -> str:
        rom = ", custom ROM" if self.custom_rom else ""
        boot = "unlocked" if self.bootloader_unlocked else "locked"
        return f"{self.model} ({self.market}), bootloader {boot}{rom}"


def new_identity(
    model_name: str,
    market_code: str,
    *,
    bootloader_unlocked: bool,
    rng: random.Random,
    custom_rom: bool = False,
    imei_base: int | None = None,
) -> DeviceIdentity:
    """A new device's identity. ``imei_base`` (0 to 999,997) fixes the IMEIs' serial part
    instead of drawing it, so a fleet can give each device its own IMEIs."""
    phone_model = lookup_model(model_name)
    lookup_market(market_code)
    if custom_rom and not bootloader_unlocked:
        raise UnknownCatalogueEntry("a custom ROM can only be flashed with an unlocked bootloader")
    if market_code not in phone_model.markets:
        raise UnknownCatalogueEntry(
            f"{model_name} was not sold in market {market_code}; "
            f"variants: {', '.join(phone_model.markets)}"
        )
    # Dual-SIM phones have two consecutive IMEIs on one TAC, as real ones do.
    base = rng.randrange(0, 999_998) if imei_base is None else imei_base
    if not 0 <= base < 999_998:
        raise ValueError(f"imei_base must be 0..999997, got {base}")
    count = 2 if phone_model.dual_sim else 1
    imeis = tuple(make_imei(phone_model.tac, base + i) for i in range(count))
    serial = "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(12))
    return DeviceIdentity(
        serial=serial,
        imeis=imeis,
        model=phone_model.name,
        market=market_code,
        firmware="LineageOS 18.1 (custom ROM)" if custom_rom else phone_model.firmware(market_code),
        bootloader_unlocked=bootloader_unlocked,
        custom_rom=custom_rom,
    )


def provision(
    directory: Path,
    factory: Factory,
    vendor_public_pem: bytes,
    *,
    model_name: str = "Redmi Note 9",
    market_code: str = "MI",
    bootloader_unlocked: bool = False,
    custom_rom: bool = False,
    rng: random.Random | None = None,
) -> DeviceStorage:
    """Create a phone's data directory: identity, P-256 key, factory certificate, pinned vendor key."""
    rng = rng or random.Random()  # noqa: S311 - serials and IMEIs are simulated, not secrets
    identity = new_identity(
        model_name,
        market_code,
        bootloader_unlocked=bootloader_unlocked or custom_rom,
        custom_rom=custom_rom,
        rng=rng,
    )
    from phone_sim.protocol.identity import chain_to_wire

    key = ec.generate_private_key(ec.SECP256R1())
    chain = factory.issue(identity.claims, key.public_key())
    storage = DeviceStorage(directory)
    storage.write_provisioning(identity, key, chain_to_wire(chain), vendor_public_pem)
    return storage
