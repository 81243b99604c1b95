"""HTTP exchanges with the server under test, byte for byte and recorded.

The kit sends requests as it built them, the broken ones included (a ``Host`` other than the
one signed, a ``Content-Length`` that is not a number, a body that is not JSON), so it writes
each header itself through :mod:`http.client` rather than letting a client library tidy it.
Every exchange is kept (:class:`Exchange`) for the case's transcript.
"""

from __future__ import annotations

import http.client
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .errors import KitSetupError

#: real seconds the kit waits for a whole answer (connect, send, read)
TIMEOUT = 10.0
#: the most bytes of an answer the kit reads (PROTOCOL.md section 1: no body exceeds 16384)
MAX_ANSWER = 16384 + 1


@dataclass
class Request:
    """A request as it goes on the wire: method, target (path and query), header lines, body."""

    method: str
    target: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    #: set Content-Length from the body when sending (a case that breaks it sets False)
    length: bool = True

    def header(self, name: str) -> str | None:
        found = [v for k, v in self.headers if k.lower() == name.lower()]
        return ", ".join(found) if found else None

    def set(self, name: str, value: str | None) -> None:
        """Replace every ``name`` line by one (None: remove them)."""
        self.headers = [(k, v) for k, v in self.headers if k.lower() != name.lower()]
        if value is not None:
            self.headers.append((name, value))


#: what a reason quotes of a server's words at most (a one-line reason, docs/CONFORMANCE.md)
QUOTE = 160


def one_line(text: str, limit: int | None = QUOTE) -> str:
    """``text`` with its runs of whitespace (newlines included) folded to one space, and cut
    to ``limit`` characters with an ellipsis (``None``: not cut)."""
    folded = " ".join(text.split())
    return folded if limit is None or len(folded) <= limit else folded[: limit - 1] + "…"


@dataclass
class Answer:
    """What came back: status, header lines, body (or why nothing did)."""

    status: int = 0
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    #: why there is no answer (no connection, timeout, a body past the limit...)
    error: str | None = None

    def header(self, name: str) -> str | None:
        found = [v for k, v in self.headers if k.lower() == name.lower()]
        return ", ".join(found) if found else None

    def describe(self) -> str:
        """The answer in one line: its status and the start of its body, its whitespace
        (an HTML error page's lines) folded."""
        if self.error is not None:
            return f"no answer: {one_line(self.error)}"
        return f"{self.status} {one_line(self.body[:400].decode('utf-8', 'replace'))}"


@dataclass
class Exchange:
    """One request and its answer, with what the case meant by it."""

    label: str
    request: Request
    answer: Answer
    seconds: float = 0.0


class Server:
    """The server under test, at ``url`` (``http`` or ``https``)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise KitSetupError(f"{url}: the server's URL must be http://HOST:PORT or https://...")
        if parts.path not in ("", "/") or parts.query:
            raise KitSetupError(f"{url}: give the server's base URL, without a path")
        self.url = f"{parts.scheme}://{parts.netloc}"
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        #: the authority as the kit addresses it: what goes in Host and in @target-uri
        self.authority = parts.netloc

    def target_uri(self, target: str) -> str:
        return f"{self.url}{target}"

    def send(self, request: Request, label: str) -> Exchange:
        """Send ``request`` as it is; never raises for what the server does."""
        started = time.monotonic()
        answer = self._send(request)
        return Exchange(label, request, answer, time.monotonic() - started)

    def _send(self, request: Request) -> Answer:
        kind = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        connection = kind(self.host, self.port, timeout=TIMEOUT)
        try:
            connection.putrequest(
                request.method, request.target, skip_host=True, skip_accept_encoding=True
            )
            for name, value in request.headers:
                connection.putheader(name, value)
            if request.length:
                connection.putheader("Content-Length", str(len(request.body)))
            connection.endheaders(request.body or None)
            response = connection.getresponse()
            body = response.read(MAX_ANSWER)
            if len(body) == MAX_ANSWER:
                return Answer(
                    response.status, response.getheaders(), body[:-1], "body past the limit"
                )
            return Answer(response.status, response.getheaders(), body)
        except (OSError, http.client.HTTPException) as exc:  # TimeoutError is an OSError
            return Answer(error=f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()
