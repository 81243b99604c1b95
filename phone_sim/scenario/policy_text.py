"""Scenario policies: inline overrides merged over a base policy, written back out as TOML.

The stdlib reads TOML but does not write it; a policy needs only strings, numbers, booleans,
lists of those, tables and arrays of tables, which :func:`dump_toml` writes. The result is
validated with the server's own loader, so a scenario cannot carry a policy the server would
refuse.
"""

from __future__ import annotations

import json
import math
import tomllib
from collections.abc import Mapping
from typing import Any

from server_stub.errors import PolicyError
from server_stub.policy import default_policy_text, parse_policy

#: the most characters a policy version may have (the verdict carries it)
MAX_VERSION = 64


class PolicyTextError(ValueError):
    """The merged policy is not one the server accepts (the loader's message)."""


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
        PolicyTextError: with the loader's message (``field.path: problem``).
    """
    text = dump_toml(data)
    try:
        parse_policy(text, source=source)
    except PolicyError as exc:
        raise PolicyTextError(str(exc).removeprefix(f"{source}: ")) from None
    return text


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
