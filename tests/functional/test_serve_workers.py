"""``vendor-server serve --workers 2``: two real processes on one port, one store, one admin API.

The kernel spreads new connections over the processes (SO_REUSEPORT), so every check below
makes many fresh connections: what one connection sees, both processes see. That each process
answered a share is checked by the counts the server prints when it stops.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from phone_sim.protocol.identity import Factory
from phone_sim.protocol.imei import make_imei
from phone_sim.protocol.messages import Verdict, VerdictStatus
from server_stub import cli
from server_stub.runtime.processes import can_share_port
from tests.support.policies import DAY, delay, policy_text
from tests.support.raw_http import connect, exchange, parse, read_to_end
from tests.support.signed_client import SEPT_2021, DeviceIdentity, post_activation, session, sim
from tests.support.vendor import CUBACEL, TELEKOM

pytestmark = pytest.mark.skipif(not can_share_port(), reason="--workers needs SO_REUSEPORT")

SERVE = "from server_stub.cli import main; raise SystemExit(main())"
STORY = "2021-09-01T12:00:00Z"
#: fresh connections per check: all on one process of two by chance once in 2**(N - 1)
FRESH = 24


class Serving:
    """``vendor-server serve --workers 2`` in a subprocess of its own, once it has said it serves.

    Its output goes to files (a pipe nobody reads would fill up with the access log).
    """

    issued = 0

    def __init__(self, tmp_path: Path, *args: str) -> None:
        self.data = tmp_path / "vendor"
        self.out, self.err = tmp_path / "serve.out", tmp_path / "serve.err"
        command = [sys.executable, "-c", SERVE, "serve", "--port", "0", "--data", str(self.data)]
        command += ["--init-factory", "--workers", "2", *args]
        with self.out.open("w") as out, self.err.open("w") as err:
            # A session of its own: a signal to its process group is a Ctrl-C in its terminal.
            self.process = subprocess.Popen(
                command, stdout=out, stderr=err, text=True, start_new_session=True
            )
        try:
            self.pids = self._started()
        except BaseException:
            self.kill()
            raise
        self.url = self.printed().split("\n", 1)[0].rsplit(" ", 1)[1]
        self.token = (self.data / "admin.token").read_text().strip()
        self.factory = Factory.open(tmp_path / "factory")
        self.requests = 0  # that this test sent

    def _started(self) -> list[int]:
        """Wait for the banner's last line; the processes' pids."""
        deadline = time.monotonic() + 60
        pattern = re.compile(r"^2 processes \(pids (\d+), (\d+)\)$", re.M)
        while (match := pattern.search(self.printed())) is None:
            assert self.process.poll() is None, self.err.read_text()
            assert time.monotonic() < deadline, self.printed()
            time.sleep(0.05)
        return [int(match.group(1)), int(match.group(2))]

    def printed(self) -> str:
        return self.out.read_text()

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """One request on a fresh connection of its own, as the operator."""
        self.requests += 1
        headers = {"Authorization": f"Bearer {self.token}"}
        with session() as http:
            return http.request(method, self.url + path, headers=headers, timeout=10, **kwargs)

    def fresh(self, path: str, field: str) -> set[Any]:
        """``field`` of ``GET path`` on FRESH connections: one value if all processes agree."""
        return {self.call("GET", path).json()[field] for _ in range(FRESH)}

    def activate(self, home: str, created: int) -> Verdict:
        """A new device's first activation, signed at ``created``, on a fresh connection."""
        Serving.issued += 1
        n = Serving.issued
        identity = DeviceIdentity.issue(
            self.factory,
            serial=f"RN9W{n:08d}",
            imeis=(make_imei("86781299", 2 * n), make_imei("86781299", 2 * n + 1)),
        )
        self.requests += 1
        with session() as http:
            response = post_activation(
                self.url, identity, identity.request([sim(home)]), created=created, http=http
            )
        assert response.status_code == 200, response.text
        return Verdict.decode(response.content)

    def stop(self, signum: int, *, group: bool = False) -> tuple[int, str, str]:
        """Signal the server (``group``: and its processes, as Ctrl-C does); how it ended."""
        if group:
            os.killpg(self.process.pid, signum)
        else:
            self.process.send_signal(signum)
        try:
            code = self.process.wait(timeout=15)
        finally:
            self.kill()
        return code, self.printed(), self.err.read_text()

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def answered(self, out: str) -> list[int]:
        """Requests each process answered, from the line printed when it stopped."""
        match = re.search(r"^stopped; requests answered by each process: (.*)$", out, re.M)
        assert match is not None, out
        return [int(n.replace(",", "")) for n in match.group(1).split(" + ")]


def _put_at_once(server: Serving, texts: list[str]) -> dict[str, int]:
    """PUT each policy text on a connection of its own, all at the same moment; the statuses."""
    start = threading.Barrier(len(texts))
    statuses: dict[str, int] = {}

    def put(text: str) -> None:
        start.wait()
        statuses[text] = server.call("PUT", "/admin/policy", data=text.encode()).status_code

    threads = [threading.Thread(target=put, args=(text,)) for text in texts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.slow
def test_both_processes_decide_by_the_policy_and_the_time_the_operator_set(
    tmp_path: Path,
) -> None:
    server = Serving(tmp_path, "--speed", "0", "--start", STORY)
    try:
        assert server.fresh("/v1/health", "policy_version") == {"2021-09-sanctions-2"}
        # Under the packaged policy a Cuban activation is let through (and flagged)...
        assert server.activate(CUBACEL, SEPT_2021).status is VerdictStatus.ACTIVATED

        text = policy_text(delay(0), version="lock-at-once-1")
        put = server.call("PUT", "/admin/policy", data=text.encode())
        assert put.json() == {
            "version": "lock-at-once-1",
            "previous_version": "2021-09-sanctions-2",
        }
        assert server.fresh("/admin/policy", "version") == {"lock-at-once-1"}
        assert server.fresh("/admin/policy", "text") == {text}
        # ... and once the operator's policy is in, every process locks one at once.
        verdicts = {server.activate(CUBACEL, SEPT_2021).reason for _ in range(FRESH)}
        assert verdicts == {"EMBARGOED_TERRITORY"}

        advanced = server.call("POST", "/admin/clock/advance", json={"seconds": 3 * DAY})
        assert advanced.json()["now"] == SEPT_2021 + 3 * DAY
        assert server.fresh("/admin/clock", "now") == {SEPT_2021 + 3 * DAY}
        # Signed three days later: a process still at the old time would refuse every one of
        # them as from the future (more than 5 minutes ahead of its clock).
        verdicts = {server.activate(TELEKOM, SEPT_2021 + 3 * DAY).reason for _ in range(FRESH)}
        assert verdicts == {"ACTIVATION_OK"}

        code, out, err = server.stop(signal.SIGTERM)
    finally:
        server.kill()
    assert code == 0, err
    assert "Traceback" not in err
    answered = server.answered(out)
    assert len(answered) == 2 and min(answered) > 0
    assert sum(answered) == server.requests
    assert not any(_alive(pid) for pid in server.pids)


def test_both_processes_guard_their_connections(tmp_path: Path) -> None:
    """Stalled requests cut at --request-timeout, framing errors and the client's address: the
    same in every process (the guarded protocol, proxy headers off)."""
    server = Serving(tmp_path, "--request-timeout", "1")
    try:
        stalled = [connect(server.url) for _ in range(FRESH)]
        for sock in stalled:
            sock.sendall(
                b"POST /v1/activation HTTP/1.1\r\nHost: vendor\r\nContent-Length: 9\r\n\r\n{"
            )
        broken = [exchange(server.url, b"GARBAGE\r\n\r\n") for _ in range(FRESH)]
        spoofed = [
            session().get(
                server.url + "/admin/devices",
                headers={"Authorization": f"Bearer {server.token}", "X-Forwarded-For": "10.0.0.1"},
                timeout=10,
            )
            for _ in range(FRESH)
        ]
        ends = [parse(read_to_end(sock, timeout=5)) for sock in stalled]
        for sock in stalled:
            sock.close()
        code, _, err = server.stop(signal.SIGTERM)
    finally:
        server.kill()
    assert code == 0, err
    assert {(a.status, a.json()["error"]["code"]) for a in ends if a is not None} == {
        (408, "request_timeout")
    } and None not in ends
    assert {(a.status, a.headers["content-type"]) for a in broken if a is not None} == {
        (400, "application/json")
    } and None not in broken
    assert {response.status_code for response in spoofed} == {200}


@pytest.mark.slow
def test_concurrent_replacements_one_wins_and_a_running_clock_never_goes_back(
    tmp_path: Path,
) -> None:
    server = Serving(tmp_path, "--speed", "600", "--start", STORY)
    try:
        # Two operators send a policy under one new version at the same moment, on two
        # connections (each round, on two processes half the time): exactly one is installed.
        for round_ in range(4):
            texts = [policy_text(delay(d), version=f"race-{round_}") for d in (1, 2)]
            statuses = _put_at_once(server, texts)
            assert sorted(statuses.values()) == [200, 409]
            (winner,) = (text for text, status in statuses.items() if status == 200)
            assert server.fresh("/admin/policy", "text") == {winner}

        # The clock runs (600 simulated seconds a second) and is advanced through either
        # process: read on fresh connections one after the other, it never goes back, and
        # each advance shows in full in the next reading, whichever process makes it.
        readings = []
        for i in range(3 * FRESH):
            if i % FRESH == FRESH - 1:
                before = server.call("GET", "/admin/clock").json()["now"]
                server.call("POST", "/admin/clock/advance", json={"seconds": DAY})
                readings.append(server.call("GET", "/admin/clock").json()["now"])
                assert readings[-1] >= before + DAY
            else:
                readings.append(server.call("GET", "/admin/clock").json()["now"])
        assert readings == sorted(readings)

        code, _, err = server.stop(signal.SIGINT, group=True)  # Ctrl-C in its terminal
    finally:
        server.kill()
    assert code == 0, err
    assert "Traceback" not in err
    assert not any(_alive(pid) for pid in server.pids)


@pytest.mark.slow
def test_a_process_that_dies_ends_the_server_with_an_error(tmp_path: Path) -> None:
    server = Serving(tmp_path)
    try:
        os.kill(server.pids[1], signal.SIGKILL)
        code = server.process.wait(timeout=15)
    finally:
        server.kill()
    err = server.err.read_text()
    assert code == 1
    assert f"process 2 (pid {server.pids[1]}) ended unexpectedly (exit code -9)" in err
    assert "Traceback" not in err
    assert not _alive(server.pids[0])


def _serve_once(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", SERVE, "serve", "--init-factory", "--workers", "2"]
    command += ["--data", str(tmp_path / "vendor"), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def test_a_server_whose_first_process_cannot_start_says_why(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('version = "bad-1"\n')
    result = _serve_once(tmp_path, "--port", "0", "--policy", str(bad))
    assert result.returncode == 2
    assert result.stderr.startswith(f"vendor-server: {bad}: ")
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_a_port_in_use_is_refused_even_by_another_server_sharing_it(tmp_path: Path) -> None:
    # Another `serve --workers` of this user already listens there: SO_REUSEPORT alone would
    # let this one in beside it, to be given half of its connections.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as other:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        result = _serve_once(tmp_path, "--port", str(port))
    assert result.returncode == 2
    assert result.stderr.startswith(f"vendor-server: cannot listen on 127.0.0.1:{port}: ")
    assert "Address already in use" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("workers", ["0", "-1", "two"])
def test_a_number_of_workers_below_one_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], workers: str
) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["serve", "--data", str(tmp_path), "--workers", workers])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "argument --workers: " in err
    assert "at least one process is needed" in err or "not a number of processes" in err


def test_several_workers_need_a_shared_port(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("server_stub.runtime.processes.can_share_port", lambda: False)
    assert cli.main(["serve", "--data", str(tmp_path), "--workers", "2"]) == 2
    assert "--workers 2 needs SO_REUSEPORT (Linux)" in capsys.readouterr().err
    assert not (tmp_path / "vendor.db").exists()
