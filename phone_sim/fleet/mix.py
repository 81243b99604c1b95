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

The file is read through :mod:`phone_sim.tomlfile` into :class:`MixFile`: every problem is
reported at once, each with its line.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Self

from pydantic import BeforeValidator, Field, PlainValidator, model_validator

from phone_sim.device.catalogue import market as lookup_market
from phone_sim.device.catalogue import model as lookup_model
from phone_sim.device.errors import UnknownCatalogueEntry
from phone_sim.device.sims import CARRIERS, Network, Sim, network_for
from phone_sim.device.sims import carrier as find_carrier
from phone_sim.tomlfile import (
    Closed,
    Findings,
    InvalidFile,
    Positions,
    Words,
    check,
    did_you_mean,
    parse,
    problem,
    problem_at,
)
from phone_sim.tomlfile import (
    Path as KeyPath,
)

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


def _choice(name: str) -> SimChoice:
    """The SIM ``name`` stands for. Raises ValueError saying why it stands for none."""
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
            raise ValueError(str(exc)) from None
        return SimChoice(name, network_for(mcc, mnc))
    hint = did_you_mean(name, [*CARRIERS, NO_SIM])
    raise ValueError(f"not a carrier (phone-sim catalogue), an MCC-MNC or 'none'{hint}")


# --- the file -------------------------------------------------------------------------------


def _string(message: str) -> Any:
    def check_string(value: Any) -> str:
        if not isinstance(value, str):
            raise problem(message, bare=True)
        return value

    return PlainValidator(check_string)


def _sims(value: Any) -> Any:
    """Every problem of ``[sims]`` at once: the table, each weight, each name that counts."""
    if not isinstance(value, dict) or not value:
        raise problem("[sims] must be a table of weights, e.g. Telekom = 90", bare=True)
    found = Findings()
    counted = False
    for name, weight in value.items():
        # bool is an int in Python; `Telekom = true` is a mistake, not a weight of 1.
        number = isinstance(weight, int | float) and not isinstance(weight, bool)
        if not number or not 0 <= weight < math.inf:
            found.add((name,), "a weight must be a number >= 0")
        elif weight > 0:  # a weight of 0 leaves the entry out, whatever it names
            counted = True
            try:
                _choice(name)
            except ValueError as exc:
                found.add((name,), str(exc))
    if not found and not counted:
        found.add((), "every weight in [sims] is 0", bare=True)
    found.raise_any()
    return value


_DEVICE_STRINGS = "device.model and device.market are strings"


class MixDevice(Closed):
    """``[device]``: the phone every device of the fleet is."""

    model: Annotated[str, _string(_DEVICE_STRINGS)] = DEFAULT_MODEL
    market: Annotated[str, _string(_DEVICE_STRINGS)] = DEFAULT_MARKET

    @model_validator(mode="after")
    def _sold_there(self) -> Self:
        try:
            phone_model = lookup_model(self.model)
        except UnknownCatalogueEntry as exc:
            raise problem_at(("model",), str(exc), bare=True) from None
        try:
            lookup_market(self.market)
        except UnknownCatalogueEntry as exc:
            raise problem_at(("market",), str(exc), bare=True) from None
        if self.market not in phone_model.markets:
            message = f"{self.model} was not sold in market {self.market}"
            raise problem_at(("market",), message, bare=True)
        return self


class MixFile(Closed):
    """A whole mix file."""

    description: Annotated[str, _string("description must be a string")] = ""
    device: MixDevice = MixDevice()
    sims: Annotated[dict[str, float], BeforeValidator(_sims)] = Field(
        default=None, validate_default=True
    )

    def mix(self, source: str) -> SimMix:
        weights = tuple((_choice(name), w) for name, w in self.sims.items() if w > 0)
        model = lookup_model(self.device.model).name
        return SimMix(weights, model, self.device.market, self.description, source)


class MixWords(Words):
    """Mix problems keep the phrasing of the original reader (``sims.X: reason``)."""

    def unknown_key(self, table: KeyPath, key: str, allowed: Sequence[str], noun: str) -> str:
        return self.at(table, f"unknown key(s) {key}{did_you_mean(key, allowed)}")

    def wrong_type(self, path: KeyPath, expected: str, value: Any) -> str:
        if expected == "a table":
            return f"[{self.where(path)}] must be a table"
        return f"{self.where(path)} must be {expected}"

    def syntax(self, reason: str, message: str) -> str:
        return f"not a TOML file: {message}"


WORDS = MixWords()


def load_mix(path: Path) -> SimMix:
    """Read and check a mix file.

    Raises:
        MixError: the file is unreadable, not TOML, or names something unknown: every
            problem, each with its line.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MixError(f"{path}: cannot read the mix: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise MixError(f"{path}: not a TOML file: {exc}") from exc
    try:
        data, positions = parse(text, words=WORDS)
    except InvalidFile as exc:
        raise MixError("\n".join(exc.lines(str(path))), problems=exc.problems) from None
    return parse_mix(data, source=str(path), positions=positions)


def parse_mix(
    data: Mapping[str, Any], *, source: str = "<mix>", positions: Positions | None = None
) -> SimMix:
    """Check a mix read from TOML; problems start with ``source`` (and the line, given
    ``positions``)."""
    try:
        checked = check(MixFile, data, words=WORDS, positions=positions)
    except InvalidFile as exc:
        raise MixError("\n".join(exc.lines(source)), problems=exc.problems) from None
    return checked.mix(source)
