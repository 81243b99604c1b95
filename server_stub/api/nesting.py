"""How deep a JSON body nests, measured before any parser recurses into it.

Python's ``json`` module (and pydantic after it) recurses once per level: about a thousand levels,
2 kB of brackets, ended in a ``RecursionError`` and a 500 before the signature was looked at.
:class:`~server_stub.api.limits.BodyLimitMiddleware` asks :func:`too_deep` of every JSON body
before any route, dependency or FastAPI's own body parsing sees it, and answers 400.

The deepest honest body is an ``ActivationRequest`` (object, ``sims`` array, SIM object: three
levels), so :data:`MAX_JSON_DEPTH` leaves a wide margin. The check is one pass in C for every body
that has fewer brackets than the limit (all honest ones); only a body with more is scanned.
"""

from __future__ import annotations

import re

#: deepest nesting of arrays and objects a JSON body may have
MAX_JSON_DEPTH = 32

# A JSON string, escapes included: brackets inside strings do not nest. (Each alternative
# consumes what the other cannot, so the match is linear; an unterminated string only makes the
# count too high, for a body that is not JSON and is refused anyway.)
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_OPENERS = frozenset(b"[{")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def too_deep(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``body``, read as JSON, nests arrays and objects deeper than ``limit``."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False  # too few openers to nest that deep, wherever they are
    depth = 0
    for byte in _STRING.sub(b"", body).translate(None, _NOT_BRACKETS):
        if byte in _OPENERS:
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False
