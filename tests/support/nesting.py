"""TOML texts nested far deeper than any real file, for the "clean error, no traceback" tests.

``tomllib`` recurses once per level of arrays or inline tables (a RecursionError past about a
thousand) and takes quadratic time and memory on long dotted keys.
"""

from __future__ import annotations

#: how deep the texts go; the brief's worst case, and well past Python's recursion limit
DEPTH = 100_000


def nested(key: str, kind: str, depth: int = DEPTH) -> str:
    """``key = [[[...]]]`` (``arrays``), ``key = {a = {a = ...}}`` (``tables``) or
    ``key.a.a.a... = 1`` (``dotted``), one line."""
    if kind == "arrays":
        return f"{key} = {'[' * depth}{']' * depth}\n"
    if kind == "tables":
        return f"{key} = {'{ a = ' * depth}1{' }' * depth}\n"
    if kind == "dotted":
        return f"{key}{'.a' * depth} = 1\n"
    raise ValueError(kind)


KINDS = ("arrays", "tables", "dotted")
