"""The cyclic collector's settings for a process that is ours alone, once its set-up is done.

A server process, or a fleet's phone process, holds tens of thousands of objects from its
imports and set-up for its whole life: Python's collector walked them again in every full
collection, and collected young objects every 700 allocations, though nearly all of a request's
objects are freed by their reference counts before any collection sees them
(docs/decisions/collector-settled-in-serving-processes.md).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

#: (young, middle, old): ten times Python's 700 allocations between young collections, and
#: twice its 10 for each older generation; the test suite's settings
#: (docs/decisions/gc-frozen-after-collection.md)
THRESHOLDS = (7000, 20, 20)


def settle_heap() -> None:
    """Collect, freeze what is alive (out of every later collection's walk), collect less often
    (and again, if set-up had stopped collections).

    Process-wide: only for a process that is the program's own (a spawned server or phone
    process, the test suite's workers), never for one that imported us as a library.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
    gc.enable()


@contextmanager
def set_up_then_settled() -> Iterator[None]:
    """The block builds what lives as long as the process (a phone process's 50,000 phones):
    no collection walks it while it grows; :func:`settle_heap` at its end, however it ends."""
    gc.disable()
    try:
        yield
    finally:
        settle_heap()
