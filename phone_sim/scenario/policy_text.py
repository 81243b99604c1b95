"""Scenario policies: inline overrides merged over a base policy, written back out as TOML.

The stdlib reads TOML but does not write it; a policy needs only strings, numbers, booleans,
lists of those, tables and arrays of tables, which :func:`dump_toml` writes. The result is
validated with the server's own loader, so a scenario cannot carry a policy the server would
refuse. :class:`ScenarioPolicies` follows one scenario file's policy through its steps while
the file is validated.
"""

from __future__ import annotations

import json
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from phone_sim.tomlfile import Findings, InvalidFile, Problem, parse, problem_at
from server_stub.errors import PolicyError
from server_stub.policy import default_policy_text, parse_policy

from .model import PolicySpec

#: the most characters a policy version may have (the verdict carries it)
MAX_VERSION = 64


class PolicyTextError(ValueError):
    """The merged policy is not one the server accepts (the loader's message).

    ``problems`` are the loader's, one by one (their paths are the policy's keys).
    """

    def __init__(self, message: str, problems: tuple[Problem, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems


def default_policy() -> dict[str, Any]:
    return tomllib.loads(default_policy_text())


def merge(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``overrides`` on top: tables merge key by key, anything else replaces.

    Arrays replace rather than append (``[[policy.territories]]`` lists the territories in
    force), so an override can also take a territory away.
    """
    merged = dict(base)
    for key, value in overrides.items():
        old = merged.get(key)
        if isinstance(old, Mapping) and isinstance(value, Mapping):
            merged[key] = merge(old, value)
        else:
            merged[key] = value
    return merged


def derived_version(base_version: str, suffix: str) -> str:
    """A new version for a changed policy: the server refuses new text under the old version."""
    return f"{base_version[: MAX_VERSION - len(suffix) - 1]}+{suffix}"


def validated(data: Mapping[str, Any], *, source: str) -> str:
    """The TOML text of ``data`` once the server's loader accepts it.

    Raises:
        PolicyTextError: with the loader's message (``field.path: problem``, one per problem).
    """
    text = dump_toml(data)
    try:
        parse_policy(text, source=source)
    except PolicyError as exc:
        # Lines of a text written here mean nothing to the user; the key paths do.
        message = "; ".join(p.message for p in exc.problems) or str(exc)
        raise PolicyTextError(message, exc.problems) from None
    return text


@dataclass
class ScenarioPolicies:
    """The policy of one scenario file as its steps change it, worked out as the file is read.

    The file's ``[policy]`` (:meth:`start`) and each ``policy_change`` step (:meth:`change`)
    are merged over the policy in force before them and validated with the server's loader.
    Problems are raised as validation errors at the key they concern (``file``, or the key
    of an override), so they reach the user with the scenario file's line.
    """

    folder: Path
    current: dict[str, Any] = field(default_factory=default_policy)
    spec: PolicySpec = field(default_factory=PolicySpec)
    #: the step being read (1-based), for the version a change gets
    step: int = 0

    def start(self, table: Mapping[str, Any]) -> None:
        """The scenario's ``[policy]``: overrides, over a ``file`` or the packaged policy."""
        overrides = {k: v for k, v in table.items() if k != "file"}
        source = "packaged default"
        if "file" in table:
            self.current = self._read(table["file"])
            source = f"file {table['file']}"
        if not overrides and "file" not in table:
            return
        if overrides:
            source += " with overrides"
            if "version" not in overrides:
                base = str(self.current.get("version", ""))
                overrides["version"] = derived_version(base, "scenario")
        data = merge(self.current, overrides)
        text = _validated(data, at=())
        self.current = data
        self.spec = PolicySpec(text, str(data["version"]), source)

    def change(self, file: str | None, overrides: Mapping[str, Any] | None) -> tuple[str, str]:
        """A ``policy_change`` step's policy: its text and version."""
        if file is not None:
            at: tuple[str, ...] = ("file",)
            data = self._read(file)
        else:
            at = ("policy",)
            extra = dict(overrides or {})
            if "version" not in extra:
                extra["version"] = derived_version(str(self.current["version"]), f"step{self.step}")
            data = merge(self.current, extra)
        text = _validated(data, at=at)
        if data.get("version") == self.current.get("version") and data != self.current:
            raise problem_at(
                at,
                "the new policy needs a new version (the server refuses "
                "a different policy under the version in force)",
                bare=True,
            )
        self.current = data
        return text, str(data["version"])

    def _read(self, name: Any) -> dict[str, Any]:
        at = ("file",)
        if not isinstance(name, str):
            raise problem_at(
                at, "file must be a string (a path relative to the scenario)", bare=True
            )
        try:
            text = (self.folder / name).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise problem_at(at, f"cannot read policy file {name}: {exc}", bare=True) from None
        try:
            data, _ = parse(text)
        except InvalidFile as exc:
            where = exc.problems[0].formatted(name)
            raise problem_at(at, f"policy file {where}", bare=True) from None
        return data


def _validated(data: Mapping[str, Any], *, at: tuple[str, ...]) -> str:
    """``validated``, its problems raised at the keys they concern (below ``at``)."""
    try:
        return validated(data, source="policy")
    except PolicyTextError as exc:
        found = Findings()
        for p in exc.problems:
            # An override's key is in the scenario; a key from elsewhere places it at ``at``.
            found.add((*at, *p.path) if at != ("file",) else at, f"policy: {p.message}", bare=True)
        if not found:
            found.add(at, f"policy: {exc}", bare=True)
        raise found.error() from None


def dump_toml(data: Mapping[str, Any]) -> str:
    """``data`` as TOML: plain keys first, then tables, then arrays of tables."""
    lines: list[str] = []
    _table(lines, (), data)
    return "\n".join(lines).strip() + "\n"


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, Mapping) for v in value)


def _table(lines: list[str], path: tuple[str, ...], data: Mapping[str, Any]) -> None:
    for key, value in data.items():
        if not isinstance(value, Mapping) and not _is_table_array(value):
            lines.append(f"{_key(key)} = {_value(value)}")
    for key, value in data.items():
        if isinstance(value, Mapping):
            lines += ["", f"[{'.'.join(_key(k) for k in (*path, key))}]"]
            _table(lines, (*path, key), value)
        elif _is_table_array(value):
            for item in value:
                lines += ["", f"[[{'.'.join(_key(k) for k in (*path, key))}]]"]
                _table(lines, (*path, key), item)


def _key(key: str) -> str:
    bare = key.replace("_", "").replace("-", "").isalnum() and key.isascii()
    return key if bare else json.dumps(key, ensure_ascii=False)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
        return repr(value)
    if isinstance(value, str):
        # A JSON string is a valid TOML basic string (same escapes), non-ASCII kept as is.
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + "}"
    raise PolicyTextError(f"cannot write {type(value).__name__} values into a policy")
