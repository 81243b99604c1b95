"""The processes that are ours alone settle the collector once set up, and serve that way:
every server process (``ServerProcesses``, as ``serve --workers N`` and the fleet run them),
``vendor-server serve`` in one process, and the fleet's phone processes, whose phones are built
while nothing collects (docs/decisions/collector-settled-in-serving-processes.md). The test
worker's own settings are the suite's; a library user's process keeps its own
(tests/unit/test_heap.py)."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from phone_sim.fleet import processes
from phone_sim.fleet.mix import load_mix
from phone_sim.protocol.identity import Factory
from server_stub.datadir.settings import ServerSettings
from server_stub.runtime.heap import THRESHOLDS
from server_stub.runtime.processes import ServerProcesses
from tests.support import gc_report
from tests.support.fleet import fleet_identities, fleet_serving, mix_file_fixture  # noqa: F401
from tests.support.signed_client import session

SETTLED = {"enabled": True, "thresholds": list(THRESHOLDS)}


def _settled(report: dict[str, object]) -> bool:
    frozen = report.pop("frozen")
    # What set-up made (the server's stack, or the phones) is out of every collection's walk.
    return isinstance(frozen, int) and frozen > 10_000 and report == SETTLED


def test_a_server_process_serves_settled(tmp_path: Path, factory: Factory) -> None:
    settings = ServerSettings(data_dir=tmp_path / "vendor", port=0)  # as `vendor_server`'s
    served = ServerProcesses(settings, 1, log_level="critical", app_hook=gc_report.HOOK)
    try:
        client = session()
        report = client.get(served.url + gc_report.PATH, timeout=10).json()
        client.close()
    finally:
        served.stop()
    assert _settled(report), report


@pytest.mark.parametrize("program", [True, False], ids=["console script", "called from code"])
def test_serve_in_one_process_settles_only_as_a_program(tmp_path: Path, program: bool) -> None:
    out = tmp_path / "gc.json"
    args = ["serve", "--port", "0", "--data", str(tmp_path / "vendor"), "--init-factory"]
    code = gc_report.serve("entry" if program else "main")
    with subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "GC_REPORT": str(out)},
    ) as process:
        try:
            assert process.stdout is not None
            first = process.stdout.readline()
            assert first.startswith("vendor server listening on "), first
            # Written before the banner when it settles; ``main()`` from code does not.
            report = json.loads(out.read_text(encoding="utf-8")) if program else None
        finally:
            process.send_signal(signal.SIGINT)
            _, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    if program:
        assert report is not None and _settled(report), report
    else:
        assert not out.exists()


def test_a_phone_process_builds_its_phones_then_runs_them_settled(
    tmp_path: Path, mix_file: Path
) -> None:
    mix = load_mix(mix_file)
    made = fleet_identities(tmp_path, mix, 200, seed=5, build=False)
    out = tmp_path / "gc.json"
    context = multiprocessing.get_context("spawn")
    with fleet_serving(tmp_path) as server:
        job = processes._Job(
            index=0,
            urls=server.contact_urls,
            vendor_key=server.vendor_key.public_bytes(
                serialization.Encoding.Raw, serialization.PublicFormat.Raw
            ),
            clock=server.clock_source,
            identities=made.source,
            sims=mix.assign(200, 5),
            concurrency=2,
            timeout=10.0,
        )
        counters = context.Array("q", processes._COUNTERS, lock=False)
        parent, child = context.Pipe()
        worker = context.Process(
            target=gc_report.phone_process, args=(child, job, counters, out), daemon=True
        )
        worker.start()
        child.close()
        try:
            assert parent.poll(60), "the phone process did not start"
            assert isinstance(parent.recv(), processes._Ready)
            parent.send(processes._Finish())
            finished = parent.recv()
        finally:
            worker.join(10)
    assert isinstance(finished, processes._Finished)
    assert len(finished.finish.states) == 200
    report = json.loads(out.read_text(encoding="utf-8"))
    # While its phones were built nothing collected: the one collection before it reported
    # ready was settling's own.
    assert report.pop("collections_in_set_up") == 1, report
    assert _settled(report), report
