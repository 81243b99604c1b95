"""``settle_heap``: what a process that is ours alone does once its set-up is done
(docs/decisions/collector-settled-in-serving-processes.md). Each case runs in a Python of its
own: the collector's settings are process-wide, and the test worker's are the suite's."""

from __future__ import annotations

import json
import subprocess
import sys

from server_stub.runtime.heap import THRESHOLDS

_REPORT = (
    "import gc, json; print(json.dumps({'enabled': gc.isenabled(),"
    " 'frozen': gc.get_freeze_count(), 'thresholds': list(gc.get_threshold())}))"
)


def _python(code: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", code + "\n" + _REPORT],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    report: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return report


def test_settling_freezes_what_is_alive_and_collects_less_often() -> None:
    report = _python(
        "from server_stub.runtime.heap import settle_heap\n"
        "import gc; gc.disable()\n"
        "kept = [[i] for i in range(10_000)]\n"
        "settle_heap()"
    )
    assert report["thresholds"] == list(THRESHOLDS) == [7000, 20, 20]
    assert report["enabled"] is True  # on again, even after a set-up that turned it off
    # The imports and the 10,000 lists are out of every later collection's walk.
    frozen = report["frozen"]
    assert isinstance(frozen, int) and frozen > 10_000


def test_an_embedded_server_in_a_library_users_process_leaves_the_collector_alone() -> None:
    # The TUI, the pytest plugin and a user's own code start servers in their own processes:
    # serving there changes nothing process-wide.
    report = _python(
        "import tempfile, pathlib\n"
        "from phone_sim.protocol.identity import Factory\n"
        "from server_stub.datadir.settings import ServerSettings\n"
        "from server_stub.runtime.embedded import EmbeddedVendorServer\n"
        "with tempfile.TemporaryDirectory() as tmp:\n"
        "    Factory.open(pathlib.Path(tmp, 'factory'))\n"
        "    settings = ServerSettings(data_dir=pathlib.Path(tmp, 'vendor'), port=0)\n"
        "    server = EmbeddedVendorServer(settings)\n"
        "    server.start()\n"
        "    server.stop()"
    )
    assert report == {"enabled": True, "frozen": 0, "thresholds": [700, 10, 10]}
