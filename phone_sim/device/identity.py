"""Who a simulated phone is: the data the factory burnt in."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from phone_sim.protocol.claims import DeviceClaims

from .catalogue import market as lookup_market
from .catalogue import model as lookup_model


@dataclass(frozen=True)
class DeviceIdentity:
    serial: str
    imeis: tuple[str, ...]
    model: str
    market: str
    firmware: str
    bootloader_unlocked: bool = False
    #: a custom ROM has no vendor activation client: it never asks the vendor, so never locks
    custom_rom: bool = False

    @property
    def claims(self) -> DeviceClaims:
        return DeviceClaims(
            serial=self.serial, imeis=self.imeis, model=self.model, market=self.market
        )

    @property
    def market_name(self) -> str:
        return lookup_market(self.market).name

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "serial": self.serial,
                "imeis": list(self.imeis),
                "model": self.model,
                "market": self.market,
                "firmware": self.firmware,
                "bootloader_unlocked": self.bootloader_unlocked,
                "custom_rom": self.custom_rom,
            },
            indent=2,
        ).encode()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DeviceIdentity:
        identity = cls(
            serial=str(data["serial"]),
            imeis=tuple(str(i) for i in data["imeis"]),
            model=str(data["model"]),
            market=str(data["market"]),
            firmware=str(data["firmware"]),
            bootloader_unlocked=bool(data.get("bootloader_unlocked", False)),
            custom_rom=bool(data.get("custom_rom", False)),
        )
        if identity.custom_rom and not identity.bootloader_unlocked:
            raise ValueError("a custom ROM needs an unlocked bootloader")
        lookup_model(identity.model)
        lookup_market(identity.market)
        return identity
