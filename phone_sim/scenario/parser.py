"""Read a scenario file and check all of it before anything runs.

Every problem is a :class:`ScenarioError` with the file, the line, the step (number and kind)
and the reason; unknown step kinds and keys come with a did-you-mean. Policies (the scenario's
and each ``policy_change``) are merged and validated here with the server's own loader, so a
run never stops halfway on a policy the server would refuse.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from phone_sim.device.catalogue import MARKETS, MODELS

from .errors import ScenarioError
from .lines import SourceLines, toml_error_line
from .model import DEFAULT_TIMEOUT, DeviceSpec, Expectation, PolicySpec, Scenario, Step
from .policy_text import PolicyTextError, default_policy, derived_version, merge, validated
from .schema import AUDIT_FIELDS, EXPECTATIONS, KINDS, Arg

TOP_KEYS = ("description", "seed", "start", "timeout", "device", "policy", "steps")
DEVICE_KEYS = ("model", "market", "bootloader", "custom_rom")
STEP_KEYS = ("do", "expect")


def did_you_mean(word: str, options: Iterable[str], what: str) -> str:
    """``unknown key 'slto'; did you mean 'slot'? (expected one of: ...)``."""
    options = list(options)
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown {what} {word!r}{hint} (expected one of: {', '.join(options)})"


def load_scenario(path: Path) -> Scenario:
    """Parse and check the scenario in ``path``; raise :class:`ScenarioError` if it is bad."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(path, None, f"cannot read the scenario: {exc}") from None
    return parse_scenario(text, path=path)


def parse_scenario(text: str, *, path: Path) -> Scenario:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        reason = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        raise ScenarioError(path, toml_error_line(str(exc)), f"not valid TOML: {reason}") from None
    return _Parser(path, SourceLines(text)).scenario(data)


def _type_problem(value: Any, arg: Arg) -> str | None:
    # TOML booleans are Python ints; `slot = true` is a mistake, not slot 1.
    if isinstance(value, bool) and bool not in arg.types:
        return f"must be {arg.type_name}, not true/false"
    if not isinstance(value, arg.types):
        return f"must be {arg.type_name}, not {type(value).__name__}"
    if arg.choices and value not in arg.choices:
        return did_you_mean(str(value), arg.choices, "value")
    return arg.check(value) if arg.check is not None else None


class _Parser:
    def __init__(self, path: Path, source: SourceLines) -> None:
        self.path = path
        self.src = source

    def fail(self, line: int | None, reason: str, step: Step | None = None) -> ScenarioError:
        if step is None:
            return ScenarioError(self.path, line, reason)
        return ScenarioError(
            self.path, line, reason, step_index=step.index, step_kind=step.kind or None
        )

    def scenario(self, data: dict[str, Any]) -> Scenario:
        for key in data:
            if key not in TOP_KEYS:
                line = self.src.key_line(key, 1, top_level=True) or self.src.table_line(key)
                raise self.fail(line, did_you_mean(key, TOP_KEYS, "key"))
        description = data.get("description", "")
        if not isinstance(description, str):
            raise self.fail(self.src.key_line("description", 1), "description must be a string")
        # Checked in the order of a file's usual layout, so the first problem reported is
        # the first one a reader meets.
        device = self.device(data.get("device", {}))
        seed = self.seed(data.get("seed", 0))
        start = self.start(data.get("start"))
        timeout = self.timeout(data.get("timeout", DEFAULT_TIMEOUT))
        policy, current = self.policy(data.get("policy", {}))
        return Scenario(
            path=self.path,
            name=self.path.stem,
            description=description.strip(),
            device=device,
            policy=policy,
            seed=seed,
            start=start,
            timeout=timeout,
            steps=self.steps(data.get("steps"), current),
        )

    # --- the top level ---------------------------------------------------------------------

    def seed(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.fail(self.src.key_line("seed", 1), "seed must be a whole number >= 0")
        return value

    def timeout(self, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise self.fail(self.src.key_line("timeout", 1), "timeout must be seconds > 0")
        return float(value)

    def start(self, value: Any) -> float | None:
        line = self.src.key_line("start", 1)
        if value is None:
            return None
        if isinstance(value, bool):
            raise self.fail(line, "start must be a date-time or Unix seconds")
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, str):
            try:
                value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                raise self.fail(line, f"start: not an ISO 8601 date-time: {value!r}") from None
        if not isinstance(value, dt.datetime) or value.tzinfo is None:
            raise self.fail(
                line, "start must be a date-time with its zone, e.g. 2021-09-01T12:00:00Z"
            )
        return value.timestamp()

    def device(self, table: Any) -> DeviceSpec:
        if not isinstance(table, dict):
            raise self.fail(self.src.table_line("device"), "device must be a table ([device])")
        for key in table:
            if key not in DEVICE_KEYS:
                line = self.src.table_line("device", key)
                raise self.fail(line, "device: " + did_you_mean(key, DEVICE_KEYS, "key"))
        model = table.get("model", DeviceSpec.model)
        if model not in MODELS:
            line = self.src.table_line("device", "model")
            raise self.fail(line, "device.model: " + did_you_mean(str(model), MODELS, "model"))
        market = table.get("market", "MI")
        if market not in MODELS[model].markets:
            known = ", ".join(f"{m} ({MARKETS[m].name})" for m in MODELS[model].markets)
            line = self.src.table_line("device", "market")
            raise self.fail(line, f"device.market: {model} was not sold in {market!r}; {known}")
        boot = table.get("bootloader")
        custom = table.get("custom_rom", False)
        if boot not in (None, "locked", "unlocked") or not isinstance(custom, bool):
            line = self.src.table_line("device", "bootloader" if boot else "custom_rom")
            raise self.fail(line, 'device: bootloader is "locked" or "unlocked"; custom_rom a bool')
        if custom and boot == "locked":
            line = self.src.table_line("device", "custom_rom")
            raise self.fail(line, 'device: a custom ROM needs bootloader = "unlocked"')
        return DeviceSpec(model, market, boot == "unlocked" or custom, custom)

    def policy(self, table: Any) -> tuple[PolicySpec, dict[str, Any]]:
        """The scenario's policy, and the policy data later changes merge over."""
        if not isinstance(table, dict):
            raise self.fail(self.src.table_line("policy"), "policy must be a table ([policy])")
        overrides = {k: v for k, v in table.items() if k != "file"}
        base, source = default_policy(), "packaged default"
        if "file" in table:
            base = self.policy_file(table["file"], self.src.table_line("policy", "file"), None)
            source = f"file {table['file']}"
        if not overrides and "file" not in table:
            return PolicySpec(), base
        if overrides:
            source += " with overrides"
            if "version" not in overrides:
                overrides["version"] = derived_version(str(base.get("version", "")), "scenario")
        data = merge(base, overrides)
        try:
            text = validated(data, source="policy")
        except PolicyTextError as exc:
            line = self.src.table_line("policy", _field_key(str(exc)))
            raise self.fail(line, f"policy: {exc}") from None
        return PolicySpec(text, str(data["version"]), source), data

    def policy_file(self, name: Any, line: int | None, step: Step | None) -> dict[str, Any]:
        if not isinstance(name, str):
            raise self.fail(line, "file must be a string (a path relative to the scenario)", step)
        path = self.path.parent / name
        try:
            return tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise self.fail(line, f"cannot read policy file {name}: {exc}", step) from None
        except tomllib.TOMLDecodeError as exc:
            raise self.fail(line, f"policy file {name} is not valid TOML: {exc}", step) from None

    # --- steps -----------------------------------------------------------------------------

    def steps(self, items: Any, policy: dict[str, Any]) -> tuple[Step, ...]:
        if not isinstance(items, list) or not items:
            line = self.src.key_line("steps", 1) or self.src.step_line(1)
            raise self.fail(line, "steps: give at least one step ([[steps]] with do = ...)")
        steps = []
        for index, item in enumerate(items, 1):
            step, policy = self.step(index, item, policy)
            steps.append(step)
        return tuple(steps)

    def step(self, index: int, item: Any, policy: dict[str, Any]) -> tuple[Step, dict[str, Any]]:
        here = Step(index, "", {}, self.src.step_line(index) or 0)
        if not isinstance(item, dict):
            raise self.fail(here.line, "a step must be a table", here)
        kind = item.get("do", "expect" if "expect" in item else None)
        if not isinstance(kind, str):
            raise self.fail(here.line, 'say what the step does: do = "boot", ... or expect', here)
        if kind not in KINDS:
            line = self.src.step_key_line(index, "do")
            raise self.fail(line, did_you_mean(kind, KINDS, "step kind"), here)
        here = Step(index, kind, {}, here.line)
        spec = KINDS[kind]
        args = {k: v for k, v in item.items() if k not in STEP_KEYS}
        for key, value in args.items():
            line = self.src.step_key_line(index, key)
            if key not in spec.args:
                raise self.fail(line, did_you_mean(key, [*spec.args, *STEP_KEYS], "key"), here)
            problem = _type_problem(value, spec.args[key])
            if problem is not None:
                raise self.fail(line, f"{key}: {problem}", here)
        for key, arg in spec.args.items():
            if arg.required and key not in args:
                raise self.fail(here.line, f"{key} is required", here)
        problem = spec.rule(args) if spec.rule is not None else None
        if problem is not None:
            raise self.fail(here.line, problem, here)
        expect = self.expectations(here, item.get("expect"))
        if kind == "expect" and not expect:
            raise self.fail(here.line, "an expect step needs at least one expectation", here)
        if kind == "policy_change":
            args, policy = self.policy_change(here, args, policy)
        return Step(index, kind, args, here.line, expect), policy

    def expectations(self, step: Step, table: Any) -> tuple[Expectation, ...]:
        if table is None:
            return ()
        if not isinstance(table, dict):
            raise self.fail(
                self.src.step_key_line(step.index, "expect"), "expect must be a table", step
            )
        result = []
        for key, value in table.items():
            line = self.src.step_key_line(step.index, "expect", key) or step.line
            if key not in EXPECTATIONS:
                raise self.fail(
                    line, "expect: " + did_you_mean(key, EXPECTATIONS, "expectation"), step
                )
            problem = _type_problem(value, EXPECTATIONS[key])
            if problem is None and key == "audit":
                problem = _audit_problem(value)
            if problem is not None:
                raise self.fail(line, f"expect.{key}: {problem}", step)
            result.append(Expectation(key, value, line))
        return tuple(result)

    def policy_change(
        self, step: Step, args: dict[str, Any], current: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        if "file" in args:
            line = self.src.step_key_line(step.index, "file")
            data = self.policy_file(args["file"], line, step)
        else:
            line = self.src.step_key_line(step.index, "policy")
            overrides = dict(args["policy"])
            if "version" not in overrides:
                overrides["version"] = derived_version(str(current["version"]), f"step{step.index}")
            data = merge(current, overrides)
        try:
            text = validated(data, source="policy")
        except PolicyTextError as exc:
            key_line = self.src.step_key_line(step.index, "policy", _field_key(str(exc)))
            raise self.fail(
                key_line if "policy" in args else line, f"policy: {exc}", step
            ) from None
        if data.get("version") == current.get("version") and data != current:
            raise self.fail(
                line,
                "the new policy needs a new version (the server refuses "
                "a different policy under the version in force)",
                step,
            )
        resolved = {**args, "text": text, "version": str(data["version"])}
        resolved.pop("policy", None)
        return resolved, data


def _field_key(message: str) -> str:
    """The last key of the field a policy error names (``enforcement.delay_days: ...``)."""
    field = message.split(":", 1)[0]
    return re.sub(r"\[\d+\]", "", field.rsplit(".", 1)[-1]).strip()


def _audit_problem(value: Mapping[str, Any]) -> str | None:
    if not value:
        return f"give at least one of: {', '.join(AUDIT_FIELDS)}"
    for key, item in value.items():
        if key not in AUDIT_FIELDS:
            return did_you_mean(key, AUDIT_FIELDS, "audit field")
        if not isinstance(item, str):
            return f"{key} must be a string"
    return None
