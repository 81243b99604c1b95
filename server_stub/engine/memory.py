"""What the server remembers of each device between contacts: flags, hold, release, pardons.

Frozen values with a JSON form (the store keeps it in ``devices.memory``); the rules that read
and update them are in :mod:`server_stub.engine.decide`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from phone_sim.protocol.messages import SimReport, VerdictStatus


class Source(StrEnum):
    ACTIVATION = "activation"  # the SIMs of the first activation
    SIM = "sim"  # a SIM in the phone at a contact
    REGION = "region"  # the firmware market's region lock


@dataclass(frozen=True)
class Flag:
    source: Source
    territory: str  # the territory's name; for a region flag, the market ("CN")
    network: str  # the MCC-MNC that matched ("368-01")
    slot: int
    data: str  # "home" or "serving"
    since: int  # first seen, Unix seconds
    enforced_at: int | None = None  # when a lock verdict first carried it

    @property
    def key(self) -> str:
        return f"region:{self.territory}" if self.source is Source.REGION else self.source_key

    @property
    def source_key(self) -> str:
        return f"{self.source.value}:{self.network}"

    @property
    def pardon(self) -> str:
        """What a release forgives: the territory (any SIM from it), or the region rule."""
        if self.source is Source.REGION:
            return f"region:{self.territory}"
        return f"territory:{self.territory}"

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source.value,
            "territory": self.territory,
            "network": self.network,
            "slot": self.slot,
            "data": self.data,
            "since": self.since,
            "enforced_at": self.enforced_at,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Flag:
        return cls(**(data | {"source": Source(data["source"])}))


@dataclass(frozen=True)
class Hold:
    reason: str
    message: str | None
    at: int


@dataclass(frozen=True)
class Release:
    reason: str
    at: int
    bulk: bool = False


@dataclass(frozen=True)
class DeviceMemory:
    """What the server remembers of one device between contacts (stored as JSON)."""

    activation_sims: tuple[SimReport, ...] = ()
    activated_at: int | None = None
    last_sims: tuple[SimReport, ...] = ()
    flags: tuple[Flag, ...] = ()
    pardoned: frozenset[str] = frozenset()
    hold: Hold | None = None
    release: Release | None = None
    last_status: VerdictStatus | None = None
    last_contact: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "activation_sims": _sims_json(self.activation_sims),
            "activated_at": self.activated_at,
            "last_sims": _sims_json(self.last_sims),
            "flags": [f.to_json() for f in self.flags],
            "pardoned": sorted(self.pardoned),
            "hold": None if self.hold is None else vars(self.hold),
            "release": None if self.release is None else vars(self.release),
            "last_status": None if self.last_status is None else self.last_status.value,
            "last_contact": self.last_contact,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DeviceMemory:
        status = data.get("last_status")
        return cls(
            activation_sims=_sims(data.get("activation_sims", [])),
            activated_at=data.get("activated_at"),
            last_sims=_sims(data.get("last_sims", [])),
            flags=tuple(Flag.from_json(f) for f in data.get("flags", [])),
            pardoned=frozenset(data.get("pardoned", [])),
            hold=Hold(**data["hold"]) if data.get("hold") else None,
            release=Release(**data["release"]) if data.get("release") else None,
            last_status=None if status is None else VerdictStatus(status),
            last_contact=data.get("last_contact"),
        )


def _sims_json(sims: Iterable[SimReport]) -> list[dict[str, Any]]:
    return [s.model_dump(mode="json") for s in sims]


def _sims(data: Iterable[dict[str, Any]]) -> tuple[SimReport, ...]:
    return tuple(SimReport.model_validate(s) for s in data)
