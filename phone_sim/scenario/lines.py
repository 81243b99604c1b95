"""Where things are in a scenario file's text, so that errors can name a line.

``tomllib`` gives values without positions. A problem found after parsing is placed by scanning
the raw text: the N-th ``[[steps]]`` header, then the offending key within that step's block
(its own lines up to the next header that is not one of its sub-tables).
"""

from __future__ import annotations

import re

_TOML_LINE = re.compile(r"at line (\d+)")
_STEP_HEADER = re.compile(r"^\s*\[\[\s*steps\s*\]\]")
_HEADER = re.compile(r"^\s*\[\[?\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]\]?")


def toml_error_line(message: str) -> int | None:
    """The line a ``tomllib.TOMLDecodeError`` message names (``... (at line 3, column 5)``)."""
    match = _TOML_LINE.search(message)
    return int(match.group(1)) if match else None


class SourceLines:
    """The lines of one file, 1-based, with the searches the parser needs."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.step_headers = [i + 1 for i, s in enumerate(self.lines) if _STEP_HEADER.match(s)]

    def step_line(self, index: int) -> int | None:
        """The line of step ``index`` (1-based), or of ``steps =`` for an inline array."""
        if 0 < index <= len(self.step_headers):
            return self.step_headers[index - 1]
        return self.key_line("steps", 1, top_level=True)

    def step_key_line(self, index: int, *keys: str) -> int | None:
        """The line in step ``index`` where the key path ``keys`` is written, else the step's."""
        start = self.step_line(index)
        if start is None:
            return None
        end = self._block_end(start, "steps")
        for key in reversed(keys):  # the innermost key that can be found
            line = self._find_key(key, start, end)
            if line is not None:
                return line
        return start

    def table_line(self, table: str, key: str | None = None) -> int | None:
        """The line of ``[table]`` (or ``key`` within it), or of ``table = ...`` / ``table.x``."""
        for i, text in enumerate(self.lines, 1):
            header = _HEADER.match(text)
            if header and header.group(1).strip() == table and not text.lstrip().startswith("[["):
                if key is None:
                    return i
                return self._find_key(key, i, self._block_end(i, table)) or i
        line = self.key_line(table, 1, top_level=True)
        if line is not None and key is not None:
            return (
                self._dotted_line(table, key, line) or self._find_key(key, line, line + 1) or line
            )
        return line

    def _dotted_line(self, table: str, key: str, start: int) -> int | None:
        """The line assigning ``table.key = ...`` at the top level, from ``start``."""

        def quoted(name: str) -> str:
            return rf"[\"']?{re.escape(name)}[\"']?"

        pattern = re.compile(rf"^\s*{quoted(table)}\s*\.\s*{quoted(key)}\s*=")
        for i in range(start, len(self.lines) + 1):
            text = self.lines[i - 1]
            if _HEADER.match(text):
                return None
            if pattern.match(_code(text)):
                return i
        return None

    def key_line(self, key: str, start: int, *, top_level: bool = False) -> int | None:
        """The first line from ``start`` assigning ``key`` (before any header if ``top_level``)."""
        for i in range(start, len(self.lines) + 1):
            text = self.lines[i - 1]
            if top_level and _HEADER.match(text):
                return None
            if re.match(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*(=|\.)", text):
                return i
        return None

    def _block_end(self, start: int, table: str) -> int:
        """The line after the block that starts at ``start`` (headers of sub-tables stay in)."""
        for i in range(start + 1, len(self.lines) + 1):
            header = _HEADER.match(self.lines[i - 1])
            if header is None:
                continue
            name = header.group(1).strip()
            if self.lines[i - 1].lstrip().startswith("[[") or not name.startswith(f"{table}."):
                return i
        return len(self.lines) + 1

    def _find_key(self, key: str, start: int, end: int) -> int | None:
        pattern = re.compile(
            rf"(^|[\s{{,.])[\"']?{re.escape(key)}[\"']?\s*=|^\s*\[[^\]]*\.{re.escape(key)}\s*\]"
        )
        for i in range(start, min(end, len(self.lines) + 1)):
            if pattern.search(_code(self.lines[i - 1])):
                return i
        return None


def _code(text: str) -> str:
    """``text`` without its comment: from a ``#`` outside any string to the end of the line."""
    quote = ""
    escaped = False
    for i, char in enumerate(text):
        if quote:
            if escaped:
                escaped = False
            elif char == "\\" and quote == '"':
                escaped = True
            elif char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "#":
            return text[:i]
    return text
