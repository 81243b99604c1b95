"""Read a scenario file and check all of it before anything runs.

The file is validated as :class:`~.schema.ScenarioFile` through :mod:`phone_sim.tomlfile`;
every problem in it is reported at once, each with the file, the line, the step (number and
kind) and the reason, as a :class:`ScenarioError`. Unknown step kinds, keys and values come with
a did-you-mean. Policies (the scenario's and each ``policy_change``) are merged and validated
with the server's own loader as the file is read, so a run never stops halfway on a policy the
server would refuse.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from phone_sim.tomlfile import InvalidFile, Positions, Problem, check, parse

from .errors import ScenarioError, ScenarioProblem
from .model import FIRST_PHONE, DeviceSpec, Expectation, PhoneEntry, Scenario, Step
from .policy_text import ScenarioPolicies
from .schema import KIND_OF, DeviceTable, ScenarioFile, ScenarioWords, StepFields, kind_of
from .step_args import PolicyChangeArgs
from .steps import STEPS

WORDS = ScenarioWords()
STEP_KEYS = ("do", "phone", "expect")


def load_scenario(path: Path) -> Scenario:
    """Parse and check the scenario in ``path``; raise :class:`ScenarioError` if it is bad."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(path, None, f"cannot read the scenario: {exc}") from None
    return parse_scenario(text, path=path)


def parse_scenario(text: str, *, path: Path) -> Scenario:
    try:
        data, positions = parse(text, words=WORDS)
    except InvalidFile as exc:
        raise _error(path, exc.problems, {}) from None
    policies = ScenarioPolicies(path.parent)
    try:
        checked = check(ScenarioFile, data, words=WORDS, positions=positions, context=policies)
    except InvalidFile as exc:
        raise _error(path, exc.problems, data) from None
    if checked.phone is not None:
        phones = tuple(PhoneEntry(p.name, _device(p)) for p in checked.phone)
    else:
        phones = (PhoneEntry(FIRST_PHONE, _device(checked.device or DeviceTable())),)
    return Scenario(
        path=path,
        name=path.stem,
        description=checked.description,
        phones=phones,
        policy=policies.spec,
        seed=checked.seed,
        start=checked.start,
        timeout=checked.timeout,
        steps=tuple(
            _step(index, entry, raw, positions)
            for index, (entry, raw) in enumerate(zip(checked.steps, data["steps"], strict=True), 1)
        ),
    )


def _device(table: DeviceTable) -> DeviceSpec:
    unlocked = table.bootloader == "unlocked" or table.custom_rom
    return DeviceSpec(table.model, table.market, unlocked, table.custom_rom)


def _step(index: int, entry: StepFields, raw: Mapping[str, Any], positions: Positions) -> Step:
    kind = KIND_OF[type(entry)]
    here = ("steps", index - 1)
    line = positions.line(here) or 0
    args = {k: v for k, v in raw.items() if k not in STEP_KEYS}
    if isinstance(entry, PolicyChangeArgs):
        args.pop("policy", None)
        args |= {"text": entry.text, "version": entry.resolved_version}
    expect = tuple(
        Expectation(key, value, positions.line((*here, "expect", key)) or line)
        for key, value in (raw.get("expect") or {}).items()
    )
    return Step(index, kind.name, args, line, expect, params=entry, phone=entry.phone)


def _error(path: Path, problems: Iterable[Problem], data: Mapping[str, Any]) -> ScenarioError:
    steps = data.get("steps")
    found = []
    for p in problems:
        if len(p.path) >= 2 and p.path[0] == "steps" and isinstance(p.path[1], int):
            raw = steps[p.path[1]] if isinstance(steps, list) else None
            kind = kind_of(raw)
            named = kind if kind is not None and kind in STEPS else None
            found.append(ScenarioProblem(p.line, p.message, p.path[1] + 1, named))
        else:
            found.append(ScenarioProblem(p.line, p.message))
    return ScenarioError.of(path, found)
