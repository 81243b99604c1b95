"""The fleet past one machine: ``bench/locustfile.py`` in Locust's distributed mode (docs/FLEET.md).

A master and two workers, each a real Locust process, as the documented commands start them;
the phones are the device model's, against a real vendor server on loopback running on real
time (Locust's phones use the system clock).
"""

from __future__ import annotations

import csv
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from phone_sim.protocol.clock import SystemClock
from phone_sim.protocol.identity import Factory
from server_stub.datadir.settings import ServerSettings
from server_stub.runtime.embedded import EmbeddedVendorServer

ROOT = Path(__file__).resolve().parents[2]
LOCUSTFILE = ROOT / "bench" / "locustfile.py"
LOCUST = Path(sys.executable).with_name("locust")
USERS = 12

pytestmark = [
    pytest.mark.skipif(
        not LOCUST.exists(),
        reason="Locust is not installed (pip install -e '.[load]'; make test does)",
    ),
    pytest.mark.slow,
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_a_master_and_two_workers_drive_the_device_model_against_a_real_server(
    tmp_path: Path,
) -> None:
    Factory.open(tmp_path / "factory")
    settings = ServerSettings(data_dir=tmp_path / "vendor", port=0)
    port = str(_free_port())
    options = ["-f", str(LOCUSTFILE), "--factory", str(tmp_path / "factory")]
    options += ["--vendor-key", str(tmp_path / "vendor" / "vendor.pub")]
    with EmbeddedVendorServer(settings, clock=SystemClock()) as server:
        run = ["--headless", "-u", str(USERS), "-r", str(USERS), "-t", "5s", "--host", server.url]
        master = subprocess.Popen(
            [
                *(str(LOCUST), *options, "--master", "--expect-workers", "2", *run),
                *("--master-bind-host", "127.0.0.1", "--master-bind-port", port),
                *("--csv", str(tmp_path / "run"), "--only-summary"),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        worker = [str(LOCUST), *options, "--worker", "--master-host", "127.0.0.1"]
        workers = [
            subprocess.Popen(
                [*worker, "--master-port", port],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(2)
        ]
        try:
            log, _ = master.communicate(timeout=90)
        finally:
            for process in (master, *workers):
                if process.poll() is None:
                    process.kill()
                process.wait(timeout=10)
        counts = server.store.counts()
    assert master.returncode == 0, log[-3000:]
    assert "Traceback" not in log, log[-3000:]
    with (tmp_path / "run_stats.csv").open() as f:
        stats = {row["Name"]: row for row in csv.DictReader(f)}
    # Every user is one phone: it activates once when it starts, then checks in.
    assert int(stats["/v1/activation"]["Request Count"]) == USERS
    assert int(stats["/v1/checkin"]["Request Count"]) > 0
    assert int(stats["Aggregated"]["Failure Count"]) == 0, log[-3000:]
    # The server saw exactly those devices, and answered (and audited) every request locust
    # counted, each with one verdict. The server may have answered more than locust counted:
    # a user stopped at the end of the run may have had one on the way, and under load the
    # master can end before a worker's last stats report reaches it (seen: 30 counted, 50
    # audited, load 7), so the upper bound is the server's own: one verdict per audited contact.
    assert counts["devices"] == USERS
    requests = int(stats["Aggregated"]["Request Count"])
    assert requests <= counts["audit"] == counts["verdicts"]
