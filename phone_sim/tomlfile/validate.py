"""A TOML file into validated models: the one way phone-sim reads its TOML files.

:func:`load` reads text, :func:`check` data already read. Either gives the validated model or
raises :class:`~.problems.InvalidFile` with every problem in the file, each with its line, in
the order of the file. The nesting is measured before ``tomllib`` reads anything, and a
``RecursionError`` at either boundary is a problem like any other, never a traceback.
"""

from __future__ import annotations

import re
import tomllib
import types
import typing
from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from .positions import Path, Positions, TooDeep, scan
from .problems import EXPECTED, PROBLEM, InvalidFile, Problem, Words

M = TypeVar("M", bound=BaseModel)
_AT_LINE = re.compile(r"\s*\(at line (\d+), column \d+\)")
_WORDS = Words()


def parse(text: str, *, words: Words = _WORDS) -> tuple[dict[str, Any], Positions]:
    """The data of ``text`` and where each key is written.

    Raises:
        InvalidFile: the text is not TOML, or nests too deep to be read safely.
    """
    try:
        positions = scan(text)
        data = tomllib.loads(text)
    except TooDeep as exc:
        raise InvalidFile([Problem(exc.line, (), words.too_deep(exc.top))]) from None
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = _AT_LINE.search(message)
        line = int(found.group(1)) if found else None
        reason = _AT_LINE.sub("", message)
        raise InvalidFile([Problem(line, (), words.syntax(reason, message))]) from None
    except RecursionError:  # the scan's limit is far below tomllib's; this is a safety net
        raise InvalidFile([Problem(None, (), words.too_deep(None))]) from None
    return data, positions


def load(
    model: type[M], text: str, *, words: Words = _WORDS, context: Any = None
) -> tuple[M, Positions]:
    """``text`` validated as ``model``, and where each key is written.

    Raises:
        InvalidFile: every problem, with its line.
    """
    data, positions = parse(text, words=words)
    return check(model, data, words=words, positions=positions, context=context), positions


def check(
    model: type[M],
    data: Mapping[str, Any],
    *,
    words: Words = _WORDS,
    positions: Positions | None = None,
    context: Any = None,
) -> M:
    """``data`` (read from TOML) validated as ``model``.

    Raises:
        InvalidFile: every problem; with ``positions``, each with its line.
    """
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        found = [_problem(model, error, words, positions) for error in exc.errors()]
    except RecursionError:
        found = [Problem(None, (), words.too_deep(None))]
    # Sorted as a reader meets them; problems with no line (a missing key) come first, and
    # problems on one line keep the models' order.
    found.sort(key=lambda p: -1 if p.line is None else p.line)
    raise InvalidFile(found)


def _problem(
    model: type[BaseModel], error: ErrorDetails, words: Words, positions: Positions | None
) -> Problem:
    path, parent, here = walk(model, error["loc"])
    kind = error["type"]
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    value = error.get("input")
    line_path = path
    if kind == PROBLEM:
        message = words.custom(path, str(ctx["message"]), bare=bool(ctx.get("bare")))
    elif kind == "missing":
        message = words.missing(path)
    elif kind == "extra_forbidden" and path:
        noun = getattr(parent, "toml_key_noun", None) or words.key_noun
        message = words.unknown_key(path[:-1], str(path[-1]), keys(parent), noun)
    elif kind in EXPECTED:
        message = words.wrong_type(path, EXPECTED[kind], value)
    elif kind in ("enum", "literal_error"):
        message = words.bad_choice(path, value, choices(here))
    elif kind in ("union_tag_invalid", "union_tag_not_found"):
        tag = ctx.get("tag") if kind == "union_tag_invalid" else None
        message = words.bad_tag(path, value, None if tag is None else str(tag), tags(here))
        if words.tag_key is not None:
            line_path = (*path, words.tag_key)
    elif kind == "value_error":
        message = words.custom(path, str(ctx.get("error", error["msg"])), bare=False)
    else:
        message = words.at(path, error["msg"])
    line = positions.line(line_path) if positions is not None else None
    return Problem(line, path, message)


# --- which type stands where ----------------------------------------------------------------


def walk(model: type[BaseModel], loc: Sequence[int | str]) -> tuple[Path, Any, Any]:
    """The key path of a pydantic location, the type holding its last key, and its own type.

    pydantic puts the tag of a discriminated union into locations (``steps.2.insert_sim.slot``);
    files do not have it, so the path leaves it out (``steps[2].slot``). A type that cannot be
    followed is None.
    """
    path: list[str | int] = []
    here: Any = model
    parent: Any = None
    for part in loc:
        here = _plain(here)
        if _is_union(here) and isinstance(part, str):
            here = _member(here, part)
            continue
        parent = here
        path.append(part)
        here = _inside(here, part)
    return tuple(path), _plain(parent), here


def keys(table: Any) -> list[str]:
    """The keys a model takes, in its order."""
    if isinstance(table, type) and issubclass(table, BaseModel):
        return [info.alias or name for name, info in table.model_fields.items()]
    return []


def choices(kind: Any) -> list[str]:
    """The values a Literal or an Enum allows, as written in a file."""
    kind = _plain(kind)
    if isinstance(kind, type) and issubclass(kind, Enum):
        return [str(member.value) for member in kind]
    if typing.get_origin(kind) is Literal:
        return [str(value) for value in typing.get_args(kind)]
    return []


def tags(kind: Any) -> list[str]:
    """The tags of a discriminated union (``Annotated[Model, Tag("boot")]`` members)."""
    kind = _plain(kind)
    if not _is_union(kind):
        return []
    return [tag for member in typing.get_args(kind) if (tag := _tag(member)) is not None]


def _plain(kind: Any) -> Any:
    """``kind`` without Annotated's metadata and without ``| None``."""
    while True:
        if typing.get_origin(kind) is Annotated:
            kind = typing.get_args(kind)[0]
        elif _is_union(kind):
            members = [m for m in typing.get_args(kind) if m is not type(None)]
            if len(members) != 1:
                return kind
            kind = members[0]
        else:
            return kind


def _is_union(kind: Any) -> bool:
    return typing.get_origin(kind) in (typing.Union, types.UnionType)


def _tag(member: Any) -> str | None:
    if typing.get_origin(member) is not Annotated:
        return None
    for meta in typing.get_args(member)[1:]:
        tag = getattr(meta, "tag", None)
        if isinstance(tag, str):
            return tag
    return None


def _member(union: Any, tag: str) -> Any:
    for member in typing.get_args(union):
        if _tag(member) == tag or getattr(_plain(member), "__name__", None) == tag:
            return member
    return None


def _inside(kind: Any, part: int | str) -> Any:
    """The type of ``kind[part]``: a model's field, a list's item, a dict's value."""
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        for name, info in kind.model_fields.items():
            if part in (name, info.alias):
                return info.annotation
        return None
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (list, tuple, Sequence) and args:
        return args[0]
    if origin in (dict, Mapping) and len(args) == 2:
        return args[1]
    return None
