"""A small load generator for when wrk is not installed: raw HTTP/1.1 over keep-alive sockets.

``connections`` sockets, split over two processes (threads inside each), each sending its
share of pre-built request bytes back to back and reading each answer before the next. It costs
the client more CPU than wrk does, on the same two cores as the server, so its rates are a floor.
"""

from __future__ import annotations

import multiprocessing
import socket
import threading
import time
from typing import Any

PROCESSES = 2
#: one connection's outcome: answered 200, answered otherwise, failed, latencies (s)
_Share = tuple[int, int, int, list[float]]


def raw_request(path: str, headers: dict[str, str], body: bytes, host: str) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    lines += [
        f"{k}: {v}" for k, v in headers.items() if k.lower() not in ("host", "content-length")
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _read_answer(sock: socket.socket, buffer: bytearray) -> int:
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        buffer += chunk
    head, _, rest = bytes(buffer).partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        rest += chunk
    buffer[:] = rest[length:]
    return status


def _connection(
    host: str, port: int, share: list[bytes], cycle: bool, deadline: float, out: list[_Share]
) -> None:
    ok = other = errors = 0
    latencies: list[float] = []
    buffer = bytearray()
    try:
        with socket.create_connection((host, port)) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            i = 0
            # At least one request each, however late this thread started: a figure from no
            # request at all would be no figure.
            while (i == 0 or time.monotonic() < deadline) and (cycle or i < len(share)):
                started = time.perf_counter()
                sock.sendall(share[i % len(share)])
                status = _read_answer(sock, buffer)
                latencies.append(time.perf_counter() - started)
                ok, other = (ok + 1, other) if status == 200 else (ok, other + 1)
                i += 1
    except OSError:
        errors += 1
    out.append((ok, other, errors, latencies))


def _process(
    host: str, port: int, shares: list[list[bytes]], cycle: bool, seconds: float, queue: Any
) -> None:
    deadline = time.monotonic() + seconds
    out: list[_Share] = []
    threads = [
        threading.Thread(target=_connection, args=(host, port, s, cycle, deadline, out))
        for s in shares
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    queue.put(out)


def blast(
    host: str,
    port: int,
    requests: list[bytes],
    connections: int,
    seconds: float,
    *,
    cycle: bool = False,
) -> dict[str, float]:
    """Send ``requests`` (each once, unless ``cycle``) for at most ``seconds``; the figures."""
    shares = (
        [requests[i::connections] for i in range(connections)]
        if not cycle
        else [requests] * connections
    )
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    per = [shares[i::PROCESSES] for i in range(PROCESSES)]
    started = time.perf_counter()
    procs = [
        context.Process(target=_process, args=(host, port, p, cycle, seconds, queue)) for p in per
    ]
    for p in procs:
        p.start()
    results = [item for _ in procs for item in queue.get()]
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - started
    latencies = sorted(x for r in results for x in r[3])

    def q(f: float) -> float:
        return (
            latencies[min(len(latencies) - 1, int(f * len(latencies)))] * 1000 if latencies else 0.0
        )

    return {
        "ok": sum(r[0] for r in results),
        "other": sum(r[1] for r in results),
        "errors": sum(r[2] for r in results),
        "seconds": elapsed,
        "p50": q(0.5),
        "p99": q(0.99),
    }
