"""The ``vendor-server`` command as an operator runs it: a real process, a real port, Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

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
