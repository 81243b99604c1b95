"""Canonical JSON (RFC 8785, the JSON Canonicalization Scheme): the only form either side sends,
and since protocol version 2 the only form either side accepts (PROTOCOL.md section 1).

* :func:`canonical_json` writes it. It is ``json.dumps`` with sorted keys, no whitespace and
  non-ASCII characters as themselves, which gives the same bytes as RFC 8785 for every value our
  schemas admit: keys are ASCII (sorted alike by code point and by UTF-16 code unit), numbers
  are integers within the I-JSON range (where RFC 8785's ECMAScript number form is the plain
  digits), strings escape exactly ``"`` ``\\`` ``\\b`` ``\\f`` ``\\n`` ``\\r`` ``\\t`` and other
  control characters as lower-case ``\\u00xx``. ``tests/unit/test_canonical_json.py`` checks
  this against the ``rfc8785`` library (Trail of Bits) with Hypothesis; the C encoder is kept
  for speed (the library, in pure Python, takes about three times as long per request).
* :func:`parse_json` reads a body strictly: UTF-8 without a byte order mark (no UTF-16/32), no
  duplicate keys, no ``NaN``/``Infinity``, integers within ±(2**53 - 1) (outside that range
  RFC 8785 has no exact form).
* :func:`require_canonical` refuses bytes that are not the canonical form of what they parse to
  (pretty-printed, keys out of order, escapes where none are due).

Every refusal is a :class:`~phone_sim.protocol.errors.MalformedMessage` saying what is wrong.
"""

from __future__ import annotations

import json
from typing import Any, NoReturn

from .errors import MalformedMessage

#: the largest integer magnitude I-JSON (RFC 7493) and so RFC 8785 represent exactly
SAFE_INTEGER = 2**53 - 1


def canonical_json(data: Any) -> bytes:
    """The RFC 8785 bytes of ``data`` (see the module docstring for the domain)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data = dict(pairs)
    if len(data) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise MalformedMessage(f"duplicate key {key[:64]!r} in a JSON object")
            seen.add(key)
    return data


def _safe_int(text: str) -> int:
    value = int(text)
    if abs(value) > SAFE_INTEGER:
        raise MalformedMessage(
            f"integer {text[:24]}{'…' if len(text) > 24 else ''} is outside ±(2**53 - 1), "
            "the range JSON numbers hold exactly (RFC 7493, RFC 8785)"
        )
    return value


def _no_constant(name: str) -> NoReturn:
    raise MalformedMessage(f"{name} is not JSON")


def parse_json(raw: bytes, *, what: str = "body") -> Any:
    """``raw`` parsed as strict JSON (UTF-8, no BOM, no duplicate keys, safe integers).

    Raises:
        MalformedMessage: naming what is wrong with ``what``.
    """
    if raw.startswith(b"\xef\xbb\xbf"):
        raise MalformedMessage(f"{what} starts with a byte order mark; JSON is UTF-8 without one")
    if b"\x00" in raw:
        # JSON text never holds a NUL byte; UTF-16 and UTF-32 text always does.
        raise MalformedMessage(f"{what} is not UTF-8 JSON (a NUL byte: UTF-16 or UTF-32?)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedMessage(f"{what} is not UTF-8: {exc.reason} at byte {exc.start}") from exc
    try:
        return json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_int=_safe_int,
            parse_constant=_no_constant,
        )
    except ValueError as exc:
        raise MalformedMessage(f"{what} is not JSON: {exc}") from exc


def require_canonical(raw: bytes, data: Any, *, what: str = "body") -> None:
    """Refuse ``raw`` unless it is exactly the canonical form of ``data`` (what it parsed to)."""
    try:
        canonical = canonical_json(data)
    except UnicodeEncodeError as exc:
        raise MalformedMessage(f"{what} holds a lone surrogate (\\u escape)") from exc
    if canonical != raw:
        at = next(
            (i for i, (a, b) in enumerate(zip(raw, canonical, strict=False)) if a != b),
            min(len(raw), len(canonical)),
        )
        raise MalformedMessage(
            f"{what} is not canonical JSON (RFC 8785: keys sorted, no whitespace, no needless "
            f"escapes), from byte {at}"
        )
