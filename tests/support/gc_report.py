"""The collector's settings as a process of ours has them once it serves, for the tests of
docs/decisions/collector-settled-in-serving-processes.md.

* :func:`install`, an app hook for server processes (``ServerProcesses(app_hook=HOOK)``):
  ``GET /_test/gc`` answers the process's settings as it serves.
* :func:`phone_process`, a spawn target: the fleet's real phone process (``_child_main``),
  which writes its settings to a file when it tells the parent its phones are built.
* :data:`SERVE`, ``vendor-server serve`` in one process as its console script runs it
  (``entry``), writing its settings to the file named by the ``GC_REPORT`` environment variable
  once it has settled; :data:`SERVE_CALLED`, the same command called from other code (``main``).
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable
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
    """The pipe to the parent, writing the settings out as the process says it is ready."""

    def __init__(self, conn: Connection, out: Path, more: Callable[[], dict[str, Any]]) -> None:
        self._conn = conn
        self._out = out
        self._more = more

    def send(self, message: object) -> None:
        if isinstance(message, processes._Ready):
            self._out.write_text(json.dumps({**state(), **self._more()}), encoding="utf-8")
        self._conn.send(message)

    def recv(self) -> object:
        return self._conn.recv()


def phone_process(conn: Connection, job: Any, counters: Any, out: Path) -> None:
    """The phone process, counting the collections from its start (imports done) to its
    report: ``collections_in_set_up`` joins the settings."""
    collections = [0]

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collections[0] += 1

    gc.callbacks.append(count)
    reporting = _Reporting(conn, out, lambda: {"collections_in_set_up": collections[0]})
    processes._child_main(reporting, job, counters)  # type: ignore[arg-type]


SERVE = """
import json, os, pathlib
import server_stub.runtime.heap as heap
from tests.support.gc_report import state
settle = heap.settle_heap
def settle_and_report():
    settle()
    pathlib.Path(os.environ["GC_REPORT"]).write_text(json.dumps(state()))
heap.settle_heap = settle_and_report
from server_stub.cli import entry
raise SystemExit(entry())
"""
SERVE_CALLED = SERVE.replace("import entry", "import main").replace("(entry())", "(main())")
