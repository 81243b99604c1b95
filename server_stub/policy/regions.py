"""Markets and the mobile country codes (MCCs) of their home regions.

Used by the policy's region lock ("the first SIM must come from the purchase region", as
Samsung does per region and as a CN firmware could) and to name a country in the admin views.
MCCs are from the public ITU-T E.212 assignments; a region lock matches on MCC alone, because
the question is "which country issued this SIM", not "which operator".
"""

from __future__ import annotations

#: The EEA's member states (EU plus Iceland, Liechtenstein, Norway), the "EU" firmware market.
EEA_MCCS = frozenset(
    {
        "232",  # Austria
        "206",  # Belgium
        "284",  # Bulgaria
        "219",  # Croatia
        "280",  # Cyprus
        "230",  # Czechia
        "238",  # Denmark
        "248",  # Estonia
        "244",  # Finland
        "208",  # France
        "262",  # Germany
        "202",  # Greece
        "216",  # Hungary
        "274",  # Iceland
        "272",  # Ireland
        "222",  # Italy
        "247",  # Latvia
        "295",  # Liechtenstein
        "246",  # Lithuania
        "270",  # Luxembourg
        "278",  # Malta
        "204",  # Netherlands
        "242",  # Norway
        "260",  # Poland
        "268",  # Portugal
        "226",  # Romania
        "231",  # Slovakia
        "293",  # Slovenia
        "214",  # Spain
        "240",  # Sweden
    }
)

#: Firmware market code (from the MIUI version string) -> MCCs of its home region. "MI"
#: (Global) has no home region, so it cannot be region-locked.
MARKET_MCCS: dict[str, frozenset[str]] = {
    "CN": frozenset({"460", "461"}),
    "EU": EEA_MCCS,
    "RU": frozenset({"250"}),
    "IN": frozenset({"404", "405", "406"}),
    "ID": frozenset({"510"}),
    "TW": frozenset({"466"}),
    "TR": frozenset({"286"}),
    "JP": frozenset({"440", "441"}),
    "KR": frozenset({"450"}),
}

#: Country names for the admin views (not used in decisions). Crimea is not here: its operators
#: use Russia's MCC, and the policy's territories name it by operator.
COUNTRIES: dict[str, str] = {
    "202": "Greece",
    "204": "Netherlands",
    "208": "France",
    "214": "Spain",
    "222": "Italy",
    "232": "Austria",
    "234": "United Kingdom",
    "250": "Russia",
    "260": "Poland",
    "262": "Germany",
    "310": "United States",
    "311": "United States",
    "368": "Cuba",
    "404": "India",
    "405": "India",
    "417": "Syria",
    "432": "Iran",
    "440": "Japan",
    "450": "South Korea",
    "460": "China",
    "466": "Taiwan",
    "467": "North Korea",
    "510": "Indonesia",
    "634": "Sudan",
    "286": "Turkey",
}


def country_of(mcc: str) -> str | None:
    return COUNTRIES.get(mcc)
