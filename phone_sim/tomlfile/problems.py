"""What is wrong with a file, in words: problems, the exception that carries them, and wording.

A :class:`Problem` is one mistake: its line, its key path and a message. Validators (model
validators of the file's pydantic models) report their own with :func:`problem` or, for several
at once, :class:`Findings`; everything else pydantic finds (a missing key, an unknown one, a
wrong type, a value not among the choices) is put into words by a :class:`Words`, which each
kind of file may subclass to keep the phrasing its users know.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from .positions import MAX_DEPTH, Path

#: the pydantic error type of problems validators report (see :func:`problem`)
PROBLEM = "toml_problem"


@dataclass(frozen=True)
class Problem:
    """One mistake in a file: the line (None: not written anywhere), the key path, the words."""

    line: int | None
    path: Path
    message: str

    def formatted(self, source: str) -> str:
        """``source:line: message``, the way compilers and editors point at a line."""
        where = source if self.line is None else f"{source}:{self.line}"
        return f"{where}: {self.message}"


class InvalidFile(ValueError):
    """A file with one or more problems, in the order a reader meets them."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(p.message for p in self.problems))

    def lines(self, source: str) -> list[str]:
        return [p.formatted(source) for p in self.problems]


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """``"; did you mean 'slot'?"`` when one of ``options`` is close to ``word``, else ``""``.

    Case does not count against a match (``cn`` suggests ``CN``).
    """
    by_lower = {option.lower(): option for option in options}
    close = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=0.6)
    return f"; did you mean {by_lower[close[0]]!r}?" if close else ""


def unknown(word: str, options: Iterable[str], what: str) -> str:
    """``unknown key 'slto'; did you mean 'slot'? (expected one of: slot, carrier, ...)``."""
    options = list(options)
    hint = did_you_mean(word, options)
    return f"unknown {what} {word!r}{hint} (expected one of: {', '.join(options)})"


def problem(message: str, *, bare: bool = False) -> PydanticCustomError:
    """A problem for a validator to raise where it stands (the field or table it checks).

    ``bare`` messages are printed as they are; others get the key path in front (the
    :class:`Words` of the file decide how it reads).
    """
    # The message is a context value, not the template: it may hold braces of its own.
    return PydanticCustomError(PROBLEM, "{message}", {"message": message, "bare": bare})


def problem_at(at: Path, message: str, *, bare: bool = False) -> ValidationError:
    """A problem for a validator to raise at ``at``, a key path below where it stands."""
    found = Findings()
    found.add(at, message, bare=bare)
    return found.error()


class Findings:
    """Several problems a validator found, each at its own key path, raised together."""

    def __init__(self) -> None:
        self._found: list[InitErrorDetails] = []

    def add(self, at: Path, message: str, *, bare: bool = False) -> None:
        """A problem at ``at``, relative to where the validator stands (``()``: right there)."""
        self._found.append(InitErrorDetails(type=problem(message, bare=bare), loc=at, input=None))

    def __bool__(self) -> bool:
        return bool(self._found)

    def error(self) -> ValidationError:
        # pydantic-core takes a ValidationError raised in a validator as that many errors,
        # each at its own location under the validator's (pydantic-core#510), and goes on
        # with the rest of the file; tests/unit/test_tomlfile.py holds it to that.
        return ValidationError.from_exception_data("problems", self._found)

    def raise_any(self) -> None:
        if self._found:
            raise self.error()


#: pydantic's type errors -> what the value must be, in TOML's terms
EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "float_type": "a number",
    "bool_type": "true or false",
    "dict_type": "a table",
    "model_type": "a table",
    "model_attributes_type": "a table",
    "list_type": "a list",
    "tuple_type": "a list",
    "datetime_type": "a date-time",
}


class Words:
    """How a problem reads. This base reads ``key.path[0].x: reason``; a kind may subclass it.

    ``sort_keys`` lists the expected keys of an unknown one in order of the alphabet rather
    than of the model; ``key_noun`` is what an unknown key is called (a model may name its own
    with a ``toml_key_noun`` class attribute, as a table of markets calls them markets).
    """

    sort_keys = False
    key_noun = "key"
    #: the key that tells the members of a discriminated union apart (its line is the one
    #: to show when it names no member)
    tag_key: str | None = None

    def where(self, path: Path) -> str:
        """``territories[0].networks[1]``."""
        text = ""
        for part in path:
            text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
        return text

    def at(self, path: Path, reason: str) -> str:
        where = self.where(path)
        return f"{where}: {reason}" if where else reason

    def custom(self, path: Path, message: str, *, bare: bool) -> str:
        return message if bare else self.at(path, message)

    def missing(self, path: Path) -> str:
        return self.at(path, "is required")

    def unknown_key(self, table: Path, key: str, allowed: Sequence[str], noun: str) -> str:
        options = sorted(allowed) if self.sort_keys else list(allowed)
        hint = did_you_mean(key, options)
        return self.at(
            (*table, key), f"unknown {noun}{hint} (expected one of: {', '.join(options)})"
        )

    def type_name(self, value: Any) -> str:
        return type(value).__name__

    def wrong_type(self, path: Path, expected: str, value: Any) -> str:
        if expected == "a table":
            return self.at(path, "must be a table")
        return self.at(path, f"must be {expected}, not {self.type_name(value)}")

    def bad_choice(self, path: Path, value: Any, choices: Sequence[str]) -> str:
        shown = ", ".join(repr(c) for c in choices)
        hint = did_you_mean(value, choices) if isinstance(value, str) else ""
        return self.at(path, f"must be one of {shown}, got {value!r}{hint}")

    def bad_tag(self, path: Path, value: Any, tag: str | None, tags: Sequence[str]) -> str:
        """A table of a kind that cannot be told (``tag`` None) or is not one of ``tags``."""
        if tag is None:
            return self.at(path, "cannot tell what this table is")
        return self.at(path, unknown(tag, tags, "kind"))

    def syntax(self, reason: str, message: str) -> str:
        """``reason`` is tomllib's message without its position, ``message`` the whole one."""
        return f"not valid TOML: {reason}"

    def too_deep(self, top: str | None) -> str:
        within = f"{top}: " if top else ""
        return f"{within}nested more than {MAX_DEPTH} levels deep (tables, arrays or dotted keys)"
