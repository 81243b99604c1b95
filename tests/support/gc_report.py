"""The collector's settings as a process of ours has them once it serves, for the tests of
docs/decisions/collector-settled-in-serving-processes.md.

* :func:`install`, an app hook for server processes (``ServerProcesses(app_hook=HOOK)``):
  ``GET /_test/gc`` answers the process's settings as it serves.
* :func:`phone_process`, a spawn target: the fleet's real phone process (``_child_main``),
  which writes its settings to a file when it tells the parent its phones are built.
* :func:`serve`, the code of ``vendor-server`` in one process, run as its console script runs
  it or as other code calls it, writing its settings to the file named by the ``GC_REPORT``
  environment variable once it has settled.
"""

from __future__ import annotations

import gc
import json
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from phone_sim.fleet import processes

PATH = "/_test/gc"
HOOK = "tests.support.gc_report:install"


def state() -> dict[str, Any]:
    return {
        "enabled": gc.isenabled(),
        "frozen": gc.get_freeze_count(),
        "thresholds": list(gc.get_threshold()),
    }


def install(server: Any) -> None:
    @server.app.get(PATH, include_in_schema=False)  # type: ignore[untyped-decorator]
    def report() -> dict[str, Any]:
        return state()


class _Reporting:
    """The pipe to the parent. It counts the collections from its making (the process's imports
    done) and, as the process says it is ready, writes the settings and that count
    (``collections_in_set_up``) to ``out``."""

    def __init__(self, conn: Connection, out: Path) -> None:
        self._conn = conn
        self._out = out
        self._collections = 0
        gc.callbacks.append(self._count)

    def _count(self, phase: str, info: dict[str, int]) -> None:
        self._collections += phase == "start"

    def send(self, message: object) -> None:
        if isinstance(message, processes._Ready):
            report = {**state(), "collections_in_set_up": self._collections}
            self._out.write_text(json.dumps(report), encoding="utf-8")
        self._conn.send(message)

    def recv(self) -> object:
        return self._conn.recv()


def phone_process(conn: Connection, job: Any, counters: Any, out: Path) -> None:
    processes._child_main(_Reporting(conn, out), job, counters)  # type: ignore[arg-type]


def serve(function: str) -> str:
    """``vendor-server`` run by ``server_stub.cli``'s ``function`` (``entry``: as its console
    script; ``main``: called from code), writing the collector's settings to the file named by
    ``GC_REPORT`` if it settles."""
    return f"""
import json, os, pathlib
import server_stub.runtime.heap as heap
from tests.support.gc_report import state
settle = heap.settle_heap
def settle_and_report():
    settle()
    pathlib.Path(os.environ["GC_REPORT"]).write_text(json.dumps(state()))
heap.settle_heap = settle_and_report
from server_stub.cli import {function}
raise SystemExit({function}())
"""
