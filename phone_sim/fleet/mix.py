"""The SIM mix of a fleet: which SIM each device carries, from a small TOML file.

```toml
description = "The story: 90% German SIMs, 10% Cuban"

[device]                # optional: the phone every device is (default Redmi Note 9, MI)
model = "Redmi Note 9"
market = "MI"

[sims]                  # weights: a carrier name, an MCC-MNC, or "none" (no SIM)
Telekom = 90
Cubacel = 10
```

Weights are relative (90/10 and 9/1 are the same mix). A fleet of ``n`` devices gets exact
counts (largest remainder: 50 devices at 90/10 are 45 and 5, never 44 and 6), spread over the
fleet in an order fixed by the seed, so a run is reproducible and a test can assert counts.
"""

from __future__ import annotations

import random
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from phone_sim.device.catalogue import market as lookup_market
from phone_sim.device.catalogue import model as lookup_model
from phone_sim.device.errors import UnknownCatalogueEntry
from phone_sim.device.sims import Network, Sim, network_for
from phone_sim.device.sims import carrier as find_carrier
from phone_sim.scenario.lines import SourceLines, toml_error_line

from .errors import MixError

NO_SIM = "none"
DEFAULT_MODEL = "Redmi Note 9"
DEFAULT_MARKET = "MI"
#: The mix when no file is given: the story's German majority and a Cuban minority.
STORY_WEIGHTS: dict[str, float] = {"Telekom": 90.0, "Cubacel": 10.0}


@dataclass(frozen=True)
class SimChoice:
    """One entry of the mix: the name as written, and the network (None: no SIM)."""

    name: str
    network: Network | None

    @property
    def label(self) -> str:
        if self.network is None:
            return "no SIM"
        return f"{self.network.name} ({self.network.code})"

    def sim(self) -> Sim | None:
        return None if self.network is None else Sim.of(self.network)


@dataclass(frozen=True)
class SimMix:
    weights: tuple[tuple[SimChoice, float], ...]
    model: str = DEFAULT_MODEL
    market: str = DEFAULT_MARKET
    description: str = ""
    source: str = "built-in (90% Telekom, 10% Cubacel)"

    def counts(self, devices: int) -> dict[SimChoice, int]:
        """Exact device counts per choice (largest remainder), in the file's order."""
        total = sum(w for _, w in self.weights)
        exact = [(choice, devices * w / total) for choice, w in self.weights]
        counts = {choice: int(share) for choice, share in exact}
        left = devices - sum(counts.values())
        # Largest fractional part first; file order breaks ties, so the result is stable.
        by_remainder = sorted(
            range(len(exact)), key=lambda i: (-(exact[i][1] - int(exact[i][1])), i)
        )
        for i in by_remainder[:left]:
            counts[exact[i][0]] += 1
        return counts

    def assign(self, devices: int, seed: int) -> list[SimChoice]:
        """Which choice device ``i`` gets, for ``i`` in ``range(devices)``."""
        plan = [choice for choice, n in self.counts(devices).items() for _ in range(n)]
        random.Random(f"fleet-mix:{seed}").shuffle(plan)  # noqa: S311 - a reproducible order
        return plan


def story_mix() -> SimMix:
    return SimMix(tuple((_choice(name), w) for name, w in STORY_WEIGHTS.items()))


def load_mix(path: Path) -> SimMix:
    """Read and check a mix file.

    Raises:
        MixError: the file is unreadable, not TOML, or names something unknown (with the line).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MixError(f"{path}: cannot read the mix: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise MixError(f"{path}: not a TOML file: {exc}") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = toml_error_line(str(exc))
        raise MixError(f"{path}{_at(line)}: not a TOML file: {exc}") from exc
    return parse_mix(data, source=str(path), lines=SourceLines(text))


def parse_mix(
    data: dict[str, Any], *, source: str = "<mix>", lines: SourceLines | None = None
) -> SimMix:
    """Check a mix read from TOML; errors start with ``source`` (and the line, given ``lines``)."""
    try:
        return _parse(data, source)
    except MixError as exc:
        line = _line(lines, exc.where) if lines is not None else None
        raise MixError(f"{source}{_at(line)}: {exc}", where=exc.where) from None


def _at(line: int | None) -> str:
    return f":{line}" if line is not None else ""


def _line(lines: SourceLines, where: tuple[str, ...]) -> int | None:
    if not where:
        return None
    return lines.table_line(where[0], where[1] if len(where) > 1 else None)


def _parse(data: dict[str, Any], source: str) -> SimMix:
    unknown = sorted(set(data) - {"description", "device", "sims"})
    if unknown:
        raise MixError(f"unknown key(s) {', '.join(unknown)}", where=(unknown[0],))
    description = data.get("description", "")
    if not isinstance(description, str):
        raise MixError("description must be a string", where=("description",))
    model, market = _device(data.get("device", {}))
    sims = data.get("sims")
    if not isinstance(sims, dict) or not sims:
        raise MixError("[sims] must be a table of weights, e.g. Telekom = 90", where=("sims",))
    weights: list[tuple[SimChoice, float]] = []
    for name, weight in sims.items():
        if isinstance(weight, bool) or not isinstance(weight, int | float) or weight < 0:
            raise MixError(f"sims.{name}: a weight must be a number >= 0", where=("sims", name))
        if weight > 0:
            weights.append((_choice(name), float(weight)))
    if not weights:
        raise MixError("every weight in [sims] is 0", where=("sims",))
    return SimMix(tuple(weights), model, market, description, source)


def _device(table: object) -> tuple[str, str]:
    if not isinstance(table, dict):
        raise MixError("[device] must be a table", where=("device",))
    unknown = sorted(set(table) - {"model", "market"})
    if unknown:
        raise MixError(f"device: unknown key(s) {', '.join(unknown)}", where=("device", unknown[0]))
    model = table.get("model", DEFAULT_MODEL)
    market = table.get("market", DEFAULT_MARKET)
    if not isinstance(model, str) or not isinstance(market, str):
        raise MixError("device.model and device.market are strings", where=("device",))
    try:
        phone_model = lookup_model(model)
    except UnknownCatalogueEntry as exc:
        raise MixError(str(exc), where=("device", "model")) from exc
    try:
        lookup_market(market)
    except UnknownCatalogueEntry as exc:
        raise MixError(str(exc), where=("device", "market")) from exc
    if market not in phone_model.markets:
        raise MixError(f"{model} was not sold in market {market}", where=("device", "market"))
    return phone_model.name, market


def _choice(name: str) -> SimChoice:
    if name.lower() == NO_SIM:
        return SimChoice(name, None)
    try:
        return SimChoice(name, find_carrier(name))
    except UnknownCatalogueEntry:
        pass
    mcc, dash, mnc = name.partition("-")
    if dash and mcc.isdigit() and mnc.isdigit():
        try:
            Sim.custom(mcc, mnc)  # checks the MCC and MNC
        except UnknownCatalogueEntry as exc:
            raise MixError(f"sims.{name}: {exc}", where=("sims", name)) from exc
        return SimChoice(name, network_for(mcc, mnc))
    raise MixError(
        f"sims.{name}: not a carrier (phone-sim catalogue), an MCC-MNC or 'none'",
        where=("sims", name),
    )
