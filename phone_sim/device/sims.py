"""SIM cards: real carriers by MCC/MNC (STORY.md), custom SIMs, and the networks phones camp on.

A SIM's *home* operator comes from its IMSI; the network it is *serving* on may differ when
roaming. Both travel in every request, and policies may look at either.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from phone_sim.protocol.imei import is_valid_mcc, is_valid_mnc, luhn_check_digit

from .errors import UnknownCatalogueEntry


@dataclass(frozen=True)
class Network:
    """A mobile network: who runs it and its MCC/MNC."""

    name: str
    territory: str
    mcc: str
    mnc: str

    @property
    def code(self) -> str:
        return f"{self.mcc}-{self.mnc}"


CARRIERS: dict[str, Network] = {
    n.name: n
    for n in (
        Network("Telekom", "Germany", "262", "01"),
        Network("Vodafone", "Germany", "262", "02"),
        Network("O2", "Germany", "262", "03"),
        Network("China Mobile", "China", "460", "00"),
        Network("China Unicom", "China", "460", "01"),
        Network("China Telecom", "China", "460", "11"),
        Network("Cubacel", "Cuba", "368", "01"),
        Network("MCI", "Iran", "432", "11"),
        Network("Irancell", "Iran", "432", "35"),
        Network("RighTel", "Iran", "432", "20"),
        Network("Syriatel", "Syria", "417", "01"),
        Network("MTN Syria", "Syria", "417", "02"),
        Network("Koryolink", "North Korea", "467", "05"),
        Network("Zain Sudan", "Sudan", "634", "01"),
        Network("MTN Sudan", "Sudan", "634", "02"),
        Network("Sudani", "Sudan", "634", "07"),
        Network("Win Mobile", "Crimea", "250", "32"),
        Network("Volna", "Crimea", "250", "60"),
        Network("Krymtelekom", "Crimea", "250", "34"),
        Network("MTS", "Russia", "250", "01"),
        Network("Jio", "India", "405", "872"),
        Network("Airtel", "India", "404", "10"),
        Network("T-Mobile US", "USA", "310", "260"),
        Network("AT&T", "USA", "310", "410"),
    )
}


def carrier(name: str) -> Network:
    """Look a carrier up by name, case-insensitively, or by ``MCC-MNC``."""
    for net in CARRIERS.values():
        if name.lower() == net.name.lower() or name == net.code:
            return net
    # Imported here: the TOML package loads pydantic, which the TUI's first frame does without.
    from phone_sim.tomlfile.problems import did_you_mean

    hint = did_you_mean(name, CARRIERS)
    raise UnknownCatalogueEntry(f"unknown carrier {name!r}{hint} (known: {', '.join(CARRIERS)})")


def network_for(mcc: str, mnc: str) -> Network:
    """The catalogue network with this MCC/MNC, or an unnamed one."""
    for net in CARRIERS.values():
        if (net.mcc, net.mnc) == (mcc, mnc):
            return net
    return Network(f"{mcc}-{mnc}", "unknown", mcc, mnc)


@dataclass(frozen=True)
class Sim:
    """A SIM card: ICCID, IMSI (whose first digits name the home operator), and that operator."""

    iccid: str
    imsi: str
    home: Network
    label: str

    @property
    def home_mcc(self) -> str:
        return self.home.mcc

    @property
    def home_mnc(self) -> str:
        return self.home.mnc

    @classmethod
    def of(cls, network: Network, *, card: int = 1) -> Sim:
        """A SIM of ``network``; ``card`` tells two cards of one carrier apart, deterministically."""
        if not (is_valid_mcc(network.mcc) and is_valid_mnc(network.mnc)):
            raise UnknownCatalogueEntry(f"invalid MCC/MNC {network.mcc}-{network.mnc}")
        seed = hashlib.sha256(f"{network.code}/{card}".encode()).hexdigest()
        digits = "".join(str(int(c, 16) % 10) for c in seed)
        msin_len = 15 - len(network.mcc) - len(network.mnc)
        imsi = network.mcc + network.mnc + digits[:msin_len]
        # ICCID: 89 (telecom) + 2-digit country digits from the MCC + issuer digits + account, Luhn.
        body = "89" + network.mcc[:2] + network.mnc.rjust(3, "0") + digits[10:22]
        iccid = body + str(luhn_check_digit(body))
        return cls(iccid=iccid, imsi=imsi, home=network, label=network.name)

    @classmethod
    def custom(cls, mcc: str, mnc: str, *, iccid: str | None = None, card: int = 1) -> Sim:
        """A SIM for any MCC/MNC, named after the catalogue network if there is one."""
        if not is_valid_mcc(mcc) or not is_valid_mnc(mnc):
            raise UnknownCatalogueEntry(
                f"invalid MCC/MNC {mcc!r}-{mnc!r}: MCC is 3 digits, MNC 2-3"
            )
        sim = cls.of(network_for(mcc, mnc), card=card)
        if iccid is not None:
            if not (iccid.isdigit() and 19 <= len(iccid) <= 20 and iccid.startswith("89")):
                raise UnknownCatalogueEntry(f"invalid ICCID {iccid!r}: 19-20 digits starting 89")
            sim = cls(iccid=iccid, imsi=sim.imsi, home=sim.home, label=sim.label)
        return sim
