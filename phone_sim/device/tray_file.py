"""The SIM tray on disk: which SIM is in each slot and the network it serves on (``sims.json``).

A phone keeps its SIM cards when it is switched off, and so does the simulator across restarts
(issue #15: the lock and the clock survived a restart, the SIMs did not). The file holds each
slot's card (ICCID, IMSI, home network, label) and, when it roams, the network it camps on::

    {"version": 1, "slots": {"1": {"sim": {...}, "roaming_on": null}, "2": null}}

Decoding is strict: a file that is not of this shape raises ``ValueError`` with the reason, and
the storage reports it as a ``CorruptStateError`` naming the file; it is never silently emptied.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .sims import Network, Sim

TRAY_VERSION = 1


@dataclass(frozen=True)
class SlotContents:
    """One slot: its card and, when roaming, the network it serves on."""

    sim: Sim
    roaming_on: Network | None = None


Tray = dict[int, SlotContents | None]


def _network_to_dict(network: Network) -> dict[str, str]:
    return {
        "name": network.name,
        "territory": network.territory,
        "mcc": network.mcc,
        "mnc": network.mnc,
    }


def _network_from(value: object, where: str) -> Network:
    if not isinstance(value, dict):
        raise ValueError(f"{where} is not an object")
    fields = ("name", "territory", "mcc", "mnc")
    if set(value) != set(fields) or not all(isinstance(value[f], str) for f in fields):
        raise ValueError(f"{where} needs exactly the strings {', '.join(fields)}")
    network = Network(value["name"], value["territory"], value["mcc"], value["mnc"])
    if not (network.mcc.isdigit() and len(network.mcc) == 3):
        raise ValueError(f"{where}: MCC {network.mcc!r} is not 3 digits")
    if not (network.mnc.isdigit() and len(network.mnc) in (2, 3)):
        raise ValueError(f"{where}: MNC {network.mnc!r} is not 2-3 digits")
    return network


def _sim_from(value: object, where: str) -> Sim:
    if not isinstance(value, dict):
        raise ValueError(f"{where} is not an object")
    for name in ("iccid", "imsi", "label"):
        if not isinstance(value.get(name), str) or not value[name]:
            raise ValueError(f"{where}.{name} must be a non-empty string")
    if not (value["iccid"].isdigit() and value["imsi"].isdigit()):
        raise ValueError(f"{where}: ICCID and IMSI are digits")
    return Sim(
        iccid=value["iccid"],
        imsi=value["imsi"],
        home=_network_from(value.get("home"), f"{where}.home"),
        label=value["label"],
    )


def encode_tray(tray: Tray) -> bytes:
    slots: dict[str, Any] = {}
    for slot, contents in sorted(tray.items()):
        if contents is None:
            slots[str(slot)] = None
            continue
        sim = contents.sim
        slots[str(slot)] = {
            "sim": {
                "iccid": sim.iccid,
                "imsi": sim.imsi,
                "home": _network_to_dict(sim.home),
                "label": sim.label,
            },
            "roaming_on": None
            if contents.roaming_on is None
            else _network_to_dict(contents.roaming_on),
        }
    return json.dumps({"version": TRAY_VERSION, "slots": slots}, indent=2).encode()


def decode_tray(raw: bytes, slots: tuple[int, ...]) -> Tray:
    """The tray in ``raw``; raises ValueError saying what is wrong."""
    data = json.loads(raw)
    if not isinstance(data, dict) or data.get("version") != TRAY_VERSION:
        raise ValueError(f"not a version {TRAY_VERSION} SIM tray")
    stored = data.get("slots")
    if not isinstance(stored, dict) or set(stored) != {str(s) for s in slots}:
        raise ValueError(f"'slots' must name exactly the slots {', '.join(map(str, slots))}")
    tray: Tray = {}
    for slot in slots:
        entry = stored[str(slot)]
        if entry is None:
            tray[slot] = None
            continue
        where = f"slot {slot}"
        if not isinstance(entry, dict) or set(entry) != {"sim", "roaming_on"}:
            raise ValueError(f"{where} needs exactly 'sim' and 'roaming_on'")
        roaming = entry["roaming_on"]
        tray[slot] = SlotContents(
            _sim_from(entry["sim"], f"{where}.sim"),
            None if roaming is None else _network_from(roaming, f"{where}.roaming_on"),
        )
    return tray
