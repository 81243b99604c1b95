"""phone_sim.tomlfile: lines of key paths, nesting measured before tomllib, every problem at once."""

from __future__ import annotations

import textwrap
import time
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal, Self

import pytest
from pydantic import AfterValidator, Discriminator, Tag, model_validator

from phone_sim.tomlfile import (
    MAX_DEPTH,
    Closed,
    Findings,
    InvalidFile,
    Lax,
    Problem,
    Words,
    check,
    did_you_mean,
    load,
    parse,
    problem,
    problem_at,
)
from phone_sim.tomlfile.positions import TooDeep, scan

# --- where keys are written -------------------------------------------------------------------

LAYOUT = """\
title = "x"                      # 1
[owner]                          # 2
name = "a # not a comment"       # 3
"quoted.key" = 1                 # 4
dotted.inner.leaf = true         # 5
[[steps]]                        # 6
do = "boot"                      # 7
[[steps]]                        # 8
do = "advance"                   # 9
expect = { screen = "lock", audit = { rule = "hold" } }
[steps.more]                     # 11
items = [                        # 12
  1.5,                           # 13
  { k = "v" },                   # 14
  '''multi                       # 15
line ] } string''',              # 16
  [2021-09-01T12:00:00Z],        # 17
]                                # 18
after = 1                        # 19
"""


@pytest.mark.parametrize(
    ("path", "line"),
    [
        (("title",), 1),
        (("owner",), 2),
        (("owner", "name"), 3),
        (("owner", "quoted.key"), 4),
        (("owner", "dotted"), 5),
        (("owner", "dotted", "inner", "leaf"), 5),
        (("steps", 0), 6),
        (("steps", 0, "do"), 7),
        (("steps", 1), 8),
        (("steps", 1, "expect", "audit", "rule"), 10),
        (("steps", 1, "more"), 11),  # [steps.more] is the last step's
        (("steps", 1, "more", "items", 0), 13),
        (("steps", 1, "more", "items", 1, "k"), 14),
        (("steps", 1, "more", "items", 2), 15),
        (("steps", 1, "more", "items", 3, 0), 17),
        (("steps", 1, "more", "after"), 19),
        # Not written: the nearest enclosing key that is.
        (("steps", 0, "slot"), 6),
        (("owner", "missing", "deeper"), 2),
        (("nowhere",), None),
    ],
)
def test_every_key_path_has_the_line_it_is_written_on(path: tuple[Any, ...], line: int) -> None:
    assert scan(LAYOUT).line(path) == line


def test_the_scan_never_fails_on_text_that_is_not_toml() -> None:
    for text in ("[", "a = [1, {", "= = =", "x = ]", 'a = "unclosed\nb = 2', "[[a.]]\n[", "{}"):
        scan(text)  # positions or nothing; never an exception or a hang


# --- nesting ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "a = " + "[" * 100_000 + "]" * 100_000,
        "a = " + "{ b = " * 100_000 + "1" + " }" * 100_000,
        ".".join(["a"] * 100_000) + " = 1",  # tomllib: quadratic time and memory
        "[" + ".".join(["a"] * 100_000) + "]",
        "[[" + ".".join(["a"] * 100_000) + "]]",
    ],
    ids=["arrays", "inline-tables", "dotted-key", "header", "array-of-tables-header"],
)
def test_deep_nesting_is_a_problem_with_its_line_found_before_tomllib(text: str) -> None:
    started = time.monotonic()
    with pytest.raises(InvalidFile) as refused:
        parse("ok = 1\n" + text)
    (found,) = refused.value.problems
    assert found.line == 2
    assert found.message.startswith("a: nested more than 32 levels deep")
    assert time.monotonic() - started < 5  # stopped at the limit, not after reading it all


def test_nesting_up_to_the_limit_is_fine_and_one_more_is_not() -> None:
    def arrays(depth: int) -> str:  # the key and each array but the innermost empty one
        return "a = " + "[" * depth + "]" * depth

    assert parse(arrays(MAX_DEPTH))[0]["a"] is not None
    with pytest.raises(InvalidFile):
        parse(arrays(MAX_DEPTH + 1))
    with pytest.raises(TooDeep):
        scan(arrays(MAX_DEPTH + 1))


def test_syntax_errors_carry_tomllib_s_line() -> None:
    with pytest.raises(InvalidFile) as refused:
        parse("a = 1\nb = \n")
    assert refused.value.problems == (Problem(2, (), "not valid TOML: Invalid value"),)


# --- models ---------------------------------------------------------------------------------


class Colour(StrEnum):
    RED = "red"
    GREEN = "green"


def _even(value: int) -> int:
    if value % 2:
        raise problem(f"must be even, got {value}")
    return value


class Inner(Closed):
    toml_key_noun: ClassVar[str | None] = "part"

    size: Annotated[int, AfterValidator(_even)] = 2
    colour: Lax[Colour] = Colour.RED


class A(Closed):
    kind: Literal["a"] = "a"
    inner: Inner = Inner()


class B(Closed):
    kind: Literal["b"] = "b"
    count: int = 0

    @model_validator(mode="after")
    def _two_problems(self) -> Self:
        if self.count < 0:
            found = Findings()
            found.add(("count",), "must not be negative")
            found.add((), "a b with a negative count makes no sense", bare=True)
            found.raise_any()
        if self.count > 100:
            raise problem_at(("count",), "too many")
        return self


def _kind(value: Any) -> str | None:
    return value.get("kind") if isinstance(value, dict) else None


class Top(Closed):
    name: str
    items: list[Annotated[Annotated[A, Tag("a")] | Annotated[B, Tag("b")], Discriminator(_kind)]]


GOOD = """\
name = "top"
[[items]]
kind = "a"
inner.size = 4
[[items]]
kind = "b"
count = 3
"""


def test_a_good_file_is_its_models() -> None:
    top, positions = load(Top, GOOD)
    assert top.name == "top"
    first, second = top.items
    assert isinstance(first, A) and first.inner == Inner(size=4)
    assert isinstance(second, B) and second.count == 3
    assert positions.line(("items", 1, "count")) == 7


BAD = """\
nam = "top"
[[items]]
kind = "a"
inner = { size = 3, colour = "gren", shape = "round" }
[[items]]
kind = "b"
count = -1
[[items]]
kind = "c"
"""


def test_every_problem_is_reported_at_once_in_file_order_with_its_line() -> None:
    with pytest.raises(InvalidFile) as refused:
        load(Top, BAD)
    assert refused.value.lines("f.toml") == [
        "f.toml: name: is required",
        "f.toml:1: nam: unknown key; did you mean 'name'? (expected one of: name, items)",
        "f.toml:4: items[0].inner.size: must be even, got 3",
        "f.toml:4: items[0].inner.colour: must be one of 'red', 'green', got 'gren'; "
        "did you mean 'green'?",
        "f.toml:4: items[0].inner.shape: unknown part (expected one of: size, colour)",
        "f.toml:5: a b with a negative count makes no sense",
        "f.toml:7: items[1].count: must not be negative",
        "f.toml:8: items[2]: unknown kind 'c' (expected one of: a, b)",
    ]


def test_a_validator_can_point_below_itself() -> None:
    with pytest.raises(InvalidFile) as refused:
        load(Top, 'name = "x"\n[[items]]\nkind = "b"\n\ncount = 101\n')
    assert refused.value.problems == (
        Problem(5, ("items", 0, "count"), "items[0].count: too many"),
    )


def test_strict_types_and_their_words() -> None:
    with pytest.raises(InvalidFile) as refused:
        check(Top, {"name": 1, "items": [{"kind": "b", "count": True}, "x"]})
    assert [p.message for p in refused.value.problems] == [
        "name: must be a string, not int",
        "items[0].count: must be an integer, not bool",  # true is not 1
        "items[1]: cannot tell what this table is",
    ]
    assert all(p.line is None for p in refused.value.problems)  # data, no text


def test_a_kind_of_file_words_problems_its_own_way() -> None:
    class Terse(Words):
        def missing(self, path: tuple[str | int, ...]) -> str:
            return f"say {self.where(path)}"

    with pytest.raises(InvalidFile) as refused:
        check(Top, {"items": []}, words=Terse())
    assert [p.message for p in refused.value.problems] == ["say name"]


def test_did_you_mean_ignores_case_and_stays_quiet_when_nothing_is_close() -> None:
    assert did_you_mean("cn", ["CN", "EU"]) == "; did you mean 'CN'?"
    assert did_you_mean("slto", ["slot", "carrier"]) == "; did you mean 'slot'?"
    assert did_you_mean("zebra", ["slot", "carrier"]) == ""


def test_the_problem_text_may_hold_braces() -> None:
    with pytest.raises(InvalidFile) as refused:
        check(Inner, {"size": 1, "colour": "{x}"})
    assert "got '{x}'" in refused.value.problems[1].message


def test_problems_of_data_read_elsewhere_place_nothing() -> None:
    text = textwrap.dedent(
        """
        [[items]]
        kind = "b"
        """
    )
    data, _ = parse(text)
    with pytest.raises(InvalidFile) as refused:
        check(Top, data)
    assert refused.value.problems[0].line is None
