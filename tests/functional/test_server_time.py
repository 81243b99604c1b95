"""The vendor keeps the world's time in its data directory: a restart resumes it, and time never
runs back over the history the directory holds (issue 14: a restart with an earlier --start
silently lifted a delivered lock)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from phone_sim.protocol.clock import STORY_START
from phone_sim.protocol.identity import Factory
from tests.support.signed_client import DeviceIdentity, post_activation, session, sim
from tests.support.vendor import CUBACEL

SERVE = "from server_stub.cli import main; raise SystemExit(main())"
DAY = 86_400


class Serving:
    """``vendor-server serve`` in a subprocess, once it has said where it listens."""

    def __init__(self, data: Path, *args: str) -> None:
        self.out, self.err = data.parent / "serve.out", data.parent / "serve.err"
        command = [sys.executable, "-c", SERVE, "serve", "--port", "0", "--data", str(data)]
        with self.out.open("w") as out, self.err.open("w") as err:
            self.process = subprocess.Popen(
                [*command, "--init-factory", *args], stdout=out, stderr=err, text=True
            )
        deadline = time.monotonic() + 30
        while "clock" not in self.out.read_text():
            assert self.process.poll() is None, self.err.read_text()
            assert time.monotonic() < deadline, self.out.read_text()
            time.sleep(0.05)
        self.url = self.out.read_text().split("\n", 1)[0].rsplit(" ", 1)[1]
        self.token = (data / "admin.token").read_text().strip()

    def admin(self, method: str, path: str, **kwargs: object) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        with session() as http:
            return http.request(method, self.url + path, headers=headers, timeout=10, **kwargs)  # type: ignore[arg-type]

    def stop(self) -> str:
        self.process.send_signal(signal.SIGTERM)
        assert self.process.wait(timeout=15) == 0, self.err.read_text()
        return self.out.read_text()


def serve_once(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A serve that is expected to refuse to start."""
    command = [sys.executable, "-c", SERVE, "serve", "--port", "0", "--data", str(data), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, env=os.environ)


@pytest.mark.slow  # over 2 s of CPU or 10 s of wall (tests/support/cpu_budget.py)
def test_a_restart_resumes_the_time_and_refuses_a_start_before_its_history(
    tmp_path: Path,
) -> None:
    data = tmp_path / "vendor"
    first = Serving(data, "--clock", "simulated", "--speed", "0")
    try:
        assert "simulated clock: 2021-09-01T12:00:00Z at speed 0" in first.out.read_text()
        identity = DeviceIdentity.issue(Factory.open(tmp_path / "factory"))
        with session() as http:
            answer = post_activation(
                first.url, identity, identity.request([sim(CUBACEL)]), created=int(STORY_START),
                http=http,
            )  # fmt: skip
        assert answer.status_code == 200, answer.text
        moved = first.admin("POST", "/admin/clock/advance", json={"seconds": 3 * DAY})
        assert moved.json()["now"] == STORY_START + 3 * DAY
    finally:
        first.stop()

    # Resumed where it was left, with no option given.
    second = Serving(data)
    try:
        assert "simulated clock: 2021-09-04T12:00:00Z at speed 0" in second.out.read_text()
        assert second.admin("GET", "/admin/clock").json()["now"] == STORY_START + 3 * DAY
    finally:
        second.stop()

    # An earlier start is refused: both times named, and how to begin a new world.
    refused = serve_once(data, "--start", "2021-09-01T12:00:00Z")
    assert refused.returncode == 2
    assert "2021-09-01T12:00:00Z" in refused.stderr and "2021-09-04T12:00:00Z" in refused.stderr
    assert "another data directory" in refused.stderr and "Traceback" not in refused.stderr


def test_the_records_hold_time_even_without_a_clock_file(tmp_path: Path) -> None:
    data = tmp_path / "vendor"
    first = Serving(data, "--start", "2021-09-10T00:00:00Z", "--speed", "0")
    try:
        identity = DeviceIdentity.issue(Factory.open(tmp_path / "factory"))
        created = int(first.admin("GET", "/admin/clock").json()["now"])
        with session() as http:
            answer = post_activation(
                first.url, identity, identity.request([sim(CUBACEL)]), created=created, http=http
            )
        assert answer.status_code == 200, answer.text
    finally:
        first.stop()
    (data / "clock.json").unlink()  # lost: the store's records still say when the world was
    refused = serve_once(data, "--start", "2021-09-01T12:00:00Z", "--speed", "0")
    assert refused.returncode == 2 and "2021-09-10T00:00:00Z" in refused.stderr
