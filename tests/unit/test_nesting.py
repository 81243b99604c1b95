"""``too_deep`` agrees with the JSON parser on how deep a body nests, strings and escapes aside."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from server_stub.api.nesting import too_deep


def depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    return 0


# Strings full of the characters that could confuse a scanner: brackets, quotes, backslashes.
_text = st.text(alphabet='[]{}"\\ab\n', max_size=8)
_json = st.recursive(
    st.none() | st.integers() | _text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_text, children, max_size=3),
    max_leaves=40,
)


@settings(max_examples=400, derandomize=True, database=None)
@given(value=_json, limit=st.integers(min_value=0, max_value=6))
def test_too_deep_matches_the_parsed_depth(value: Any, limit: int) -> None:
    body = json.dumps(value).encode()
    assert too_deep(body, limit) == (depth(value) > limit)


def test_deep_bodies_are_found_quickly_and_shallow_ones_pass() -> None:
    assert too_deep(b"[" * 1000 + b"]" * 1000)
    assert too_deep(b'{"a":' * 40 + b"1" + b"}" * 40)
    assert not too_deep(b'{"a":[1,2,{"b":[3]}]}')
    assert not too_deep(json.dumps({"s": "[" * 5000}).encode())
