"""Real phone models from the 2021 reports, with their market variants.

Type allocation codes (the first 8 IMEI digits) are simulated values in Xiaomi's 86xxxxxx
range, one per model, so generated IMEIs look and check like real ones without being any
real phone's.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import UnknownCatalogueEntry


@dataclass(frozen=True)
class Market:
    """A firmware market: code used on the wire and MIUI suffix letters.

    Which MCCs count as a market's home region is the vendor's policy, not the phone's
    (``server_stub/policy/regions.py``).
    """

    code: str
    name: str
    miui_suffix: str


MARKETS: dict[str, Market] = {
    m.code: m
    for m in (
        Market("CN", "China", "CN"),
        Market("MI", "Global", "MI"),
        Market("EU", "EEA", "EU"),
        Market("RU", "Russia", "RU"),
        Market("IN", "India", "IN"),
    )
}


@dataclass(frozen=True)
class PhoneModel:
    name: str
    codename: str
    #: the two letters MIUI uses for the device in its version string
    miui_device: str
    tac: str
    android_letter: str
    miui_version: str
    markets: tuple[str, ...]
    dual_sim: bool = True

    def firmware(self, market: str) -> str:
        """MIUI version string, e.g. ``V12.0.4.0.QJOMIXM`` (Android letter, device, market, XM)."""
        return f"V{self.miui_version}.{self.android_letter}{self.miui_device}{MARKETS[market].miui_suffix}XM"


MODELS: dict[str, PhoneModel] = {
    m.name: m
    for m in (
        PhoneModel("Redmi Note 9", "merlin", "JO", "86010505", "Q", "12.0.4.0", ("MI", "EU", "RU")),
        PhoneModel(
            "Redmi Note 9S", "curtana", "JW", "86080005", "R", "12.0.2.0", ("MI", "EU", "RU", "IN")
        ),
        PhoneModel(
            "Redmi Note 10", "mojito", "KG", "86232105", "R", "12.5.1.0", ("MI", "EU", "RU", "IN")
        ),
        PhoneModel(
            "Redmi Note 10 Pro",
            "sweet",
            "KF",
            "86231605",
            "R",
            "12.5.4.0",
            ("MI", "EU", "RU", "IN"),
        ),
        PhoneModel("Redmi 9A", "dandelion", "CD", "86488304", "Q", "12.0.12.0", ("MI", "IN", "CN")),
        PhoneModel("Redmi 9C", "angelica", "CR", "86488404", "Q", "12.0.7.0", ("MI", "EU", "RU")),
        PhoneModel("Mi 10T", "apollo", "JD", "86585905", "R", "12.1.3.0", ("MI", "EU", "RU", "CN")),
        PhoneModel("POCO X3 Pro", "vayu", "JU", "86769205", "R", "12.5.2.0", ("MI", "EU", "IN")),
    )
}


def model(name: str) -> PhoneModel:
    try:
        return MODELS[name]
    except KeyError:
        raise UnknownCatalogueEntry(f"unknown model {name!r}; known: {', '.join(MODELS)}") from None


def market(code: str) -> Market:
    try:
        return MARKETS[code]
    except KeyError:
        raise UnknownCatalogueEntry(
            f"unknown market {code!r}; known: {', '.join(MARKETS)}"
        ) from None
