"""Reading a vendor's answer within bounds: at most ``limit`` bytes on the wire and decoded, by
one deadline, whatever the status (a verdict, an error body: every body goes through here).

urllib3 is asked for the raw bytes only (``decode_content=False``): its own decoders inflate a
whole read at once, and brotli or zstd (whose ratios run to millions) are used whenever their
packages happen to be installed. The phone inflates gzip and deflate itself, never more than the
room left under the limit, and refuses any other content coding without reading its body.
"""

from __future__ import annotations

import time
import zlib
from typing import Protocol

#: bytes asked of the socket per read
CHUNK = 4096
#: content codings the phone decodes (and so advertises in ``Accept-Encoding``)
ACCEPTED_CODINGS = ("gzip", "deflate")
ACCEPT_ENCODING = ", ".join(ACCEPTED_CODINGS)


class TooLarge(Exception):
    """More than the limit, on the wire or once decoded."""


class TooSlow(Exception):
    """The deadline passed before the body was complete."""


class BadEncoding(Exception):
    """A content coding the phone does not decode, or a broken compressed stream."""


class Truncated(Exception):
    """The compressed stream ended before its end."""


class RawBody(Protocol):
    """What the reader needs of urllib3's response (``requests.Response.raw``)."""

    def read1(self, amt: int = ..., decode_content: bool | None = ...) -> bytes: ...


class _Inflater:
    """gzip or deflate, inflated at most ``room`` bytes at a time."""

    def __init__(self, coding: str) -> None:
        self.coding = coding
        # deflate is meant to be zlib-wrapped (RFC 9110 8.4.1.2); some servers send it raw.
        self._wbits = 16 + zlib.MAX_WBITS if coding == "gzip" else zlib.MAX_WBITS
        self._inflater = zlib.decompressobj(self._wbits)
        self._started = False

    def feed(self, data: bytes, room: int) -> bytes:
        try:
            out = self._inflater.decompress(data, room)
        except zlib.error as exc:
            if self.coding == "deflate" and not self._started:
                self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)
                self._started = True
                return self.feed(data, room)
            raise BadEncoding(f"the answer's {self.coding} coding is broken: {exc}") from exc
        self._started = True
        if self._inflater.unconsumed_tail:
            raise TooLarge  # it stopped at the room left: more would follow
        if self._inflater.eof and self._inflater.unused_data:
            raise BadEncoding(f"data after the end of the answer's {self.coding} stream")
        return out

    def finish(self) -> None:
        if not self._inflater.eof:
            raise Truncated


def _coding(content_encoding: str | None) -> str | None:
    codings = [c.strip().lower() for c in (content_encoding or "").split(",") if c.strip() != ""]
    codings = [c for c in codings if c != "identity"]
    if not codings:
        return None
    if len(codings) == 1 and codings[0] in ("gzip", "x-gzip", "deflate"):
        return "gzip" if codings[0] == "x-gzip" else codings[0]
    raise BadEncoding(
        f"the answer uses content coding {', '.join(codings)!r}; the phone accepts "
        f"{ACCEPT_ENCODING} or none"
    )


def read_bounded(
    raw: RawBody, content_encoding: str | None, *, limit: int, deadline: float
) -> bytes:
    """The body, decoded, if it is at most ``limit`` bytes (wire and decoded) by ``deadline``.

    Raises:
        TooLarge, TooSlow, BadEncoding, Truncated: and whatever the transport raises.
    """
    coding = _coding(content_encoding)
    inflater = _Inflater(coding) if coding is not None else None
    chunks: list[bytes] = []
    wire = size = 0
    while True:
        if time.monotonic() > deadline:
            raise TooSlow
        chunk = raw.read1(CHUNK, decode_content=False)
        if not chunk:
            break
        wire += len(chunk)
        if wire > limit:
            raise TooLarge
        if inflater is not None:
            chunk = inflater.feed(chunk, limit - size + 1)
        size += len(chunk)
        if size > limit:
            raise TooLarge
        chunks.append(chunk)
    if time.monotonic() > deadline:
        raise TooSlow
    if inflater is not None:
        inflater.finish()
    return b"".join(chunks)
