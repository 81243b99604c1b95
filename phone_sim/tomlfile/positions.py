"""Where each key of a TOML file is written, so that a problem found after parsing names a line.

``tomllib`` gives values without positions. :func:`scan` reads the tokens of the text once and
records, for every key path (``("steps", 2, "expect", "screen")``, ``("territories", 0,
"networks", 1)``), the line where it is first written: the ``[[steps]]`` header of the third
step, the line of a dotted ``expect.screen = ...``, the element of an array. A path that is not
written (a missing key) is placed at the nearest enclosing one that is.

The same pass measures nesting, before ``tomllib`` (which recurses once per level and takes
quadratic time on long dotted keys) sees the text: a path longer than :data:`MAX_DEPTH` stops
the scan with :class:`TooDeep`. It never recurses itself, so any text, valid TOML or not,
comes out as positions or as ``TooDeep``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from .lexer import Tok, Token, tokens

#: The deepest key path a file may have: tables, arrays and dotted keys all count one level.
#: Real files need six (a scenario step's policy override of a territory's networks).
MAX_DEPTH = 32

Path = tuple[str | int, ...]
_KEY = (Tok.WORD, Tok.STRING)
_END_OF_VALUE = (Tok.COMMA, Tok.RBRACKET, Tok.RBRACE, Tok.NEWLINE)


class TooDeep(Exception):
    """The text nests deeper than the limit; ``line`` is where it first does."""

    def __init__(self, line: int, top: str | None) -> None:
        super().__init__(f"line {line}: nested more than {MAX_DEPTH} levels deep")
        self.line = line
        #: the top-level key under which it happens, if any
        self.top = top


@dataclass
class Positions:
    """The line of every key path written in one file."""

    lines: dict[Path, int] = field(default_factory=dict)

    def line(self, path: Path) -> int | None:
        """The line of ``path``, else of the nearest enclosing path written; None at the top."""
        for end in range(len(path), 0, -1):
            found = self.lines.get(path[:end])
            if found is not None:
                return found
        return None


@dataclass
class _Container:
    """An inline array or table being read: its path, and the next array index."""

    path: Path
    array: bool
    count: int = 0


class _Scanner:
    def __init__(self, text: str, limit: int) -> None:
        self.tokens: Iterator[Token] = tokens(text)
        self.limit = limit
        self.positions = Positions()
        self.arrays: dict[Path, int] = {}  # array of tables ([[x]]) -> elements so far
        self.table: Path = ()
        self.open: list[_Container] = []
        self.ahead: Token | None = None

    # --- tokens ----------------------------------------------------------------------------

    def peek(self) -> Token | None:
        if self.ahead is None:
            self.ahead = next(self.tokens, None)
        return self.ahead

    def take(self) -> Token | None:
        token = self.peek()
        self.ahead = None
        return token

    def skip_line(self) -> None:
        while (token := self.peek()) is not None and token.kind is not Tok.NEWLINE:
            self.take()

    def note(self, path: Path, line: int) -> None:
        if len(path) > self.limit:
            raise TooDeep(line, str(path[0]))
        self.positions.lines.setdefault(path, line)

    def note_all(self, path: Path, line: int, start: int = 1) -> None:
        for end in range(start, len(path) + 1):
            self.note(path[:end], line)

    def key(self, base: Path) -> list[str] | None:
        """A dotted key up to its ``=`` (taken), or None if this is not one."""
        parts: list[str] = []
        while (token := self.peek()) is not None and token.kind in _KEY:
            parts.append(token.key())
            self.take()
            if len(base) + len(parts) > self.limit:
                raise TooDeep(token.line, str((*base, *parts)[0]))
            if (dot := self.peek()) is None or dot.kind is not Tok.DOT:
                break
            self.take()
        token = self.peek()
        if not parts or token is None or token.kind is not Tok.EQUALS:
            return None
        self.take()
        return parts

    # --- the file --------------------------------------------------------------------------

    def scan(self) -> Positions:
        while (token := self.peek()) is not None:
            if self.open:
                self.inside(self.open[-1], token)
            elif token.kind is Tok.NEWLINE:
                self.take()
            elif token.kind is Tok.LBRACKET:
                self.header(token)
            elif token.kind in _KEY:
                parts = self.key(self.table)
                if parts is None:
                    self.skip_line()
                else:
                    path = (*self.table, *parts)
                    self.note_all(path, token.line, start=len(self.table) + 1)
                    self.value(path)
            else:
                self.skip_line()  # not TOML; tomllib will say so
        return self.positions

    def header(self, first: Token) -> None:
        self.take()
        many = (token := self.peek()) is not None and token.kind is Tok.LBRACKET
        if many:
            self.take()
        parts: list[str] = []
        while (token := self.take()) is not None and token.kind is not Tok.RBRACKET:
            if token.kind in _KEY:
                parts.append(token.key())
                if len(parts) > self.limit:
                    raise TooDeep(first.line, parts[0])
            elif token.kind is not Tok.DOT:
                break
        self.skip_line()
        if not parts:
            return
        path = (*self.resolve(parts[:-1]), parts[-1])
        if many:
            count = self.arrays.get(path, 0)
            self.arrays[path] = count + 1
            path = (*path, count)
        elif path in self.arrays:
            path = (*path, self.arrays[path] - 1)
        self.note_all(path, first.line)
        self.table = path

    def resolve(self, parts: list[str]) -> Path:
        """A header's key as a path: an array of tables on the way means its last element."""
        path: Path = ()
        for part in parts:
            path = (*path, part)
            if path in self.arrays:
                path = (*path, self.arrays[path] - 1)
        return path

    def value(self, path: Path) -> None:
        """The value of ``path`` starts here: a container is opened, a scalar stepped over."""
        token = self.peek()
        if token is None:
            return
        if token.kind in (Tok.LBRACKET, Tok.LBRACE):
            self.take()
            self.open.append(_Container(path, array=token.kind is Tok.LBRACKET))
            return
        while (token := self.peek()) is not None and token.kind not in _END_OF_VALUE:
            self.take()

    def inside(self, container: _Container, token: Token) -> None:
        """One step in an inline array or table."""
        closing = Tok.RBRACKET if container.array else Tok.RBRACE
        if token.kind is closing:
            self.take()
            self.open.pop()
        elif token.kind in (Tok.NEWLINE, Tok.COMMA, Tok.RBRACKET, Tok.RBRACE):
            self.take()  # between values (a stray closer is tomllib's to report)
        elif container.array:
            path = (*container.path, container.count)
            container.count += 1
            self.note(path, token.line)
            self.value(path)  # takes at least this token: it is no separator or closer
        else:
            parts = self.key(container.path)
            if parts is None:
                self.take()
            else:
                path = (*container.path, *parts)
                self.note_all(path, token.line, start=len(container.path) + 1)
                self.value(path)


def scan(text: str, *, limit: int = MAX_DEPTH) -> Positions:
    """The positions of every key path in ``text``.

    Raises:
        TooDeep: a key path is longer than ``limit`` (the scan stops there).
    """
    return _Scanner(text, limit).scan()
