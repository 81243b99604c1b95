"""A request's head and its body leave the phone in one write, not two.

urllib3 sends a request's head (request line and headers) in one ``send`` and its body in
another. With ``TCP_NODELAY``, which urllib3 sets, each is a TCP segment of its own, so the
server's event loop wakes twice per request and parses it in two pieces; the phone makes two
system calls. Every request of the protocol has a small body whose length is known, so the head
is held back and leaves with the body (docs/decisions/one-write-per-request.md). A body that is
no ``bytes``, or larger than :data:`MAX_JOINED`, goes as urllib3 sends it.
"""

from __future__ import annotations

from typing import Any

#: largest body joined to its head (a protocol body is at most 64 KiB; copying it is cheap)
MAX_JOINED = 64 * 1024


class OneWrite:
    """Mixed into urllib3's connections (before them): the head waits for the body."""

    _holding = False
    _held: bytes | None = None

    def request(self, method: str, url: str, body: Any = None, *args: Any, **kwargs: Any) -> None:
        self._holding = (
            isinstance(body, bytes)
            and 0 < len(body) <= MAX_JOINED
            and not kwargs.get("chunked", False)
        )
        try:
            super().request(method, url, body, *args, **kwargs)  # type: ignore[misc]
        finally:
            held, self._held, self._holding = self._held, None, False
        if held is not None:  # the body never came (nothing to join it to): the head alone
            super().send(held)  # type: ignore[misc]

    def send(self, data: Any) -> None:
        if self._holding:
            if self._held is None:  # the head
                self._held = bytes(data)
                return
            data, self._held, self._holding = self._held + bytes(data), None, False
        super().send(data)  # type: ignore[misc]
