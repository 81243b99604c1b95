"""The ``vendor-server`` command as an operator runs it: a real process, a real port, Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.support.raw_http import connect, parse, read_to_end
from tests.support.signed_client import session

SERVE = "from server_stub.cli import main; raise SystemExit(main())"


def test_serve_prints_its_url_answers_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    data = tmp_path / "vendor"
    args = ["serve", "--port", "0", "--data", str(data), "--init-factory"]
    with subprocess.Popen(
        [sys.executable, "-c", SERVE, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            first = process.stdout.readline()
            assert first.startswith("vendor server listening on http://127.0.0.1:"), first
            url = first.rsplit(" ", 1)[1].strip()
            lines = [process.stdout.readline() for _ in range(3)]
            health = session().get(url + "/v1/health", timeout=5).json()
            assert health["status"] == "ok"
        finally:
            process.send_signal(signal.SIGINT)
            _, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert "Traceback" not in err
    assert (data / "vendor.pub").exists()
    assert (data / "vendor.key").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "factory" / "root.pem").exists()
    # The admin token: created on this first start, 0600, printed this once.
    token_file = data / "admin.token"
    assert token_file.stat().st_mode & 0o777 == 0o600
    assert lines[1] == "policy: 2021-09-sanctions-2\n"
    assert lines[2] == (
        f"admin token (shown once; kept in {token_file}): {token_file.read_text().strip()}\n"
    )


def test_serve_with_a_simulated_clock_keeps_the_token_secret(tmp_path: Path) -> None:
    data = tmp_path / "vendor"
    data.mkdir()
    token_file = data / "admin.token"
    token_file.write_text("an-existing-token\n")
    token_file.chmod(0o600)
    args = ["serve", "--port", "0", "--data", str(data), "--init-factory"]
    args += ["--speed", "3600", "--start", "2021-09-01T12:00:00Z"]
    with subprocess.Popen(
        [sys.executable, "-c", SERVE, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            url = process.stdout.readline().rsplit(" ", 1)[1].strip()
            lines = [process.stdout.readline() for _ in range(4)]
            headers = {"Authorization": "Bearer an-existing-token"}
            clock = session().get(url + "/admin/clock", headers=headers, timeout=5).json()
        finally:
            process.send_signal(signal.SIGINT)
            out, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert lines[2] == f"admin token: in {token_file}\n"
    assert lines[3].startswith("simulated clock: 2021-09-01T")
    assert lines[3].endswith(" at speed 3600\n")
    assert "an-existing-token" not in "".join(lines) + out
    assert clock["simulated"] is True and clock["speed"] == 3600
    assert 1630497600 <= clock["now"] < 1630497600 + 3600 * 60  # under a real minute has passed


def test_serve_cuts_a_stalled_request_at_its_request_timeout(tmp_path: Path) -> None:
    data = tmp_path / "vendor"
    args = ["serve", "--port", "0", "--data", str(data), "--init-factory"]
    args += ["--request-timeout", "1", "--max-connections", "50"]
    with subprocess.Popen(
        [sys.executable, "-c", SERVE, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            url = process.stdout.readline().rsplit(" ", 1)[1].strip()
            with connect(url) as sock:
                started = time.monotonic()
                sock.sendall(b"POST /v1/activation HTTP/1.1\r\nHost: vendor\r\n")
                answer = parse(read_to_end(sock, timeout=5))
                waited = time.monotonic() - started
        finally:
            process.send_signal(signal.SIGINT)
            _, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert answer is not None and answer.status == 408, answer
    assert answer.json()["error"]["code"] == "request_timeout"
    assert 1.0 <= waited < 3.0


def test_serve_without_a_factory_explains_what_to_do(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", SERVE, "serve", "--port", "0", "--data", str(tmp_path / "vendor")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "factory root certificate not found" in result.stderr
    assert "--init-factory" in result.stderr
