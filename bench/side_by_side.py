"""Benchmark parts run side by side on threads, each printing as if it ran alone.

For ``--smoke`` (``--jobs``), whose figures only show that every part runs: most of a part's
time is spent waiting on its own child processes (servers starting, load generators, the TUI),
so two or three parts at once keep both cores busy. Side by side they measure each other, which
is why full runs keep them one after another (docs/decisions/bench-smoke-side-by-side.md).

Each part's printing goes to its own buffer (``sys.stdout`` is swapped for a writer that knows
which thread writes); the buffers are printed in the parts' own order as each is done.
"""

from __future__ import annotations

import io
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TextIO

Part = Callable[[], dict[str, Any]]


class _PerThreadStdout(io.TextIOBase):
    """Writes to the calling thread's buffer when it has one, else to the real stream."""

    def __init__(self, real: TextIO) -> None:
        self.real = real
        self.local = threading.local()

    def _target(self) -> TextIO:
        buffer: TextIO | None = getattr(self.local, "buffer", None)
        return buffer or self.real

    def write(self, text: str) -> int:
        return self._target().write(text)

    def flush(self) -> None:
        self._target().flush()


@contextmanager
def _captured() -> Iterator[_PerThreadStdout]:
    real = sys.stdout
    proxy = _PerThreadStdout(real)
    sys.stdout = proxy
    try:
        yield proxy
    finally:
        sys.stdout = real


def run_side_by_side(
    parts: dict[str, Part], jobs: int, first: tuple[str, ...] = ()
) -> Iterator[tuple[str, dict[str, Any], float]]:
    """Run ``parts`` ``jobs`` at a time; yield each one's name, figures and seconds, in order.

    ``first`` names parts to start before the others (the longest, so that none is left
    running alone at the end). A part that fails raises here, once the parts before it are
    yielded; the others are still waited for.
    """
    order = [n for n in first if n in parts] + [n for n in parts if n not in first]
    with _captured() as stdout, ThreadPoolExecutor(jobs) as pool:

        def one(name: str) -> tuple[str, dict[str, Any], float]:
            stdout.local.buffer = buffer = io.StringIO()
            started = time.perf_counter()
            try:
                figures = parts[name]()
            finally:
                stdout.local.buffer = None
                outputs[name] = buffer.getvalue()
            return name, figures, time.perf_counter() - started

        outputs: dict[str, str] = {}
        futures: dict[str, Future[tuple[str, dict[str, Any], float]]] = {
            name: pool.submit(one, name) for name in order
        }
        for name in parts:
            result = futures[name].exception() or futures[name].result()
            stdout.real.write(outputs.get(name, ""))
            if isinstance(result, BaseException):
                raise result
            yield result
