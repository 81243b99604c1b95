"""TOML text as structural tokens with their lines: what :mod:`.positions` reads.

Not a TOML parser: strings, comments and scalar values are recognised only well enough to be
stepped over, and what gives a file its shape (brackets, braces, ``=``, ``.``, ``,``, line ends,
keys) is reported with its line. ``tomllib`` decides whether a file is valid; this only says
*where* things are, and it never fails: text that is not TOML still comes out as tokens.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum


class Tok(StrEnum):
    LBRACKET = "["
    RBRACKET = "]"
    LBRACE = "{"
    RBRACE = "}"
    EQUALS = "="
    DOT = "."
    COMMA = ","
    NEWLINE = "newline"
    #: a run of bare-key characters (``steps``, ``1``, ``250-60``, part of a date or a float)
    WORD = "word"
    #: a quoted string, as written (quotes included)
    STRING = "string"
    #: any other character (``:`` of a time, ``+`` of a number)
    OTHER = "other"


_PUNCTUATION = {
    "[": Tok.LBRACKET,
    "]": Tok.RBRACKET,
    "{": Tok.LBRACE,
    "}": Tok.RBRACE,
    "=": Tok.EQUALS,
    ".": Tok.DOT,
    ",": Tok.COMMA,
}

# One alternative per kind of token. A multi-line string may end in up to two more quotes
# ("""a"""" is 'a"'); a string that never closes runs to the end of its line (a multi-line
# one to the end of the text), so that the rest of the file is still read.
_ML_BASIC = r'"""(?:\\.|[^\\])*?"""(?:"{1,2}(?!"))?|"""(?:\\.|[^\\])*'
_ML_LITERAL = r"'''.*?'''(?:'{1,2}(?!'))?|'''.*"
_BASIC = r'"(?:\\.|[^"\\\n])*"?'
_LITERAL = r"'[^'\n]*'?"
_TOKEN = re.compile(
    rf"(?P<newline>\n)|(?P<blank>[ \t\r]+|#[^\n]*)"
    rf"|(?P<string>{_ML_BASIC}|{_ML_LITERAL}|{_BASIC}|{_LITERAL})"
    r"|(?P<word>[A-Za-z0-9_-]+)|(?P<other>.)",
    re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class Token:
    kind: Tok
    text: str
    line: int

    def key(self) -> str:
        """The key this WORD or STRING token names (a quoted key without its quotes)."""
        if self.kind is not Tok.STRING:
            return self.text
        try:
            value = tomllib.loads(f"k = {self.text}")["k"]
        except tomllib.TOMLDecodeError:
            return self.text.strip("\"'")
        return value if isinstance(value, str) else self.text


def tokens(text: str) -> Iterator[Token]:
    """The tokens of ``text``, comments and blanks left out, lines counted from 1."""
    line = 1
    for match in _TOKEN.finditer(text):
        kind, value = match.lastgroup, match.group()
        if kind == "newline":
            yield Token(Tok.NEWLINE, value, line)
            line += 1
        elif kind == "string":
            yield Token(Tok.STRING, value, line)
            line += value.count("\n")
        elif kind == "word":
            yield Token(Tok.WORD, value, line)
        elif kind == "other":
            yield Token(_PUNCTUATION.get(value, Tok.OTHER), value, line)
