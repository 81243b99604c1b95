"""Listening sockets for the embedded server, bound before it serves.

Apart from ``runtime.embedded`` so that a world can take its port before the server's stack
(FastAPI, uvicorn) is even imported: the TUI shows its first frame first
(``docs/decisions/tui-first-frame-before-the-server.md``).
"""

from __future__ import annotations

import socket

__all__ = ["bind_socket", "socket_url"]


def bind_socket(host: str, port: int, *, reuse_port: bool = False) -> socket.socket:
    """A listening-ready TCP socket on ``host``:``port`` (0 = any free port).

    ``reuse_port``: let other processes bind the same port with it too, so that several server
    processes share one address and the kernel spreads connections over them (SO_REUSEPORT).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on accepted sockets whose proto
    # says TCP. Without it every keep-alive answer (headers and body written separately) met
    # Nagle and the client's delayed ACK: 40 ms per request
    # (docs/decisions/tcp-nodelay-on-accepted-sockets.md).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    # Lets a restarted server reuse a port whose old connections linger in TIME_WAIT.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def socket_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    if host in ("0.0.0.0", "::"):  # noqa: S104 -- reporting a wildcard bind, not binding one
        host = "127.0.0.1" if sock.family == socket.AF_INET else "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
