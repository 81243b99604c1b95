"""``phone-sim conformance``, its reports and its pytest entry point, on real servers.

The CLI runs in-process (``phone_sim.cli.main``) against our server; a case that fails exits 1
(a server broken at one rule); reports are JUnit and JSON that parse, and a transcript without
the admin token. The pytest entry point runs in a subprocess as a server project's CI would.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from phone_sim.cli import main
from phone_sim.conformance.cases import CASES
from phone_sim.protocol.keys import public_key_pem
from tests.support.broken_server import BrokenServer
from tests.support.conformance import Target, minimal_server, our_server

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ours(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Target, str]]:
    with our_server(tmp_path_factory.mktemp("ours")) as (server, target):
        yield target, server.admin_token.value


def _args(target: Target, *more: str) -> list[str]:
    args = ["conformance", "--server", target.url, "--vendor-key", str(target.vendor_key)]
    args += ["--factory", str(target.factory)]
    if target.features is not None:
        args += ["--features", str(target.features)]
    return [*args, *more]


def test_a_run_writes_junit_json_and_a_transcript_without_the_admin_token(
    ours: tuple[Target, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target, token = ours
    out = tmp_path / "out"
    picked = ["ACT-01", "SIG-22", "CRT-08", "OPT-02", "POL-01"]
    argv = _args(target, "--junit", str(out / "junit.xml"), "--json", str(out / "report.json"))
    argv += ["--transcript", str(out / "transcript.txt")]
    for case in picked:
        argv += ["--case", case]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "5 cases: 5 passed, 0 failed, 0 skipped" in printed
    assert "clock: the server's signed time (POST /v1/time): 2021-09-01 12:00:00 UTC" in printed
    assert [
        line.split()[0]
        for line in printed.splitlines()
        if line[:3] in {"ACT", "SIG", "CRT", "OPT", "POL"}
    ] == picked
    suite = ET.parse(out / "junit.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("tests") == "5" and suite.get("failures") == "0"
    report = json.loads((out / "report.json").read_text())
    assert report["summary"] == {"PASS": 5, "FAIL": 0, "SKIP": 0}
    assert [c["id"] for c in report["cases"]] == picked
    assert report["cases"][1]["expects"] == "401 signature_invalid"
    transcript = (out / "transcript.txt").read_text()
    assert "=== OPT-02 PASS" in transcript and "PUT /admin/policy" in transcript
    assert "--- the kit takes the server's time\n> POST /v1/time" in transcript
    assert "Authorization: Bearer [redacted]" in transcript
    for written in out.iterdir():
        assert token not in written.read_text(), written.name


def test_a_failing_case_exits_1_and_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with minimal_server(tmp_path, BrokenServer) as (server, target):
        assert isinstance(server, BrokenServer)
        server.broken = frozenset({"param:alg-value"})
        assert main(_args(target, "--case", "SIG-22", "--case", "SIG-21")) == 1
    printed = capsys.readouterr().out
    failed = "SIG-22   FAIL  alg names another algorithm (ed25519) (PROTOCOL.md 5, 6): "
    assert failed + "expected 401 signature_invalid, got 200" in printed
    assert "SIG-21   PASS" in printed
    assert "2 cases: 1 passed, 1 failed, 0 skipped" in printed


def test_without_a_factory_the_cases_that_need_one_are_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with minimal_server(tmp_path) as (_, target):
        device = tmp_path / "device"
        issue = ["factory", "issue", "--factory", str(target.factory), "--out", str(device)]
        issued = subprocess.run(
            [sys.executable, "-m", "phone_sim.cli", *issue],
            capture_output=True,
            text=True,
            check=False,
        )
        assert issued.returncode == 0, issued.stderr
        args = ["conformance", "--server", target.url, "--vendor-key", str(target.vendor_key)]
        args += [
            "--device",
            str(device),
            "--case",
            "ACT-02",
            "--case",
            "CRT-08",
            "--case",
            "SIG-22",
        ]
        assert main(args) == 0
    printed = capsys.readouterr().out
    assert "devices: 1 issued identity" in printed
    assert "CRT-08   SKIP" in printed and "needs the factory directory (--factory)" in printed
    # The one identity is the shared device: SIG-22 runs on it; ACT-02 needs another.
    assert "SIG-22   PASS" in printed
    assert "ACT-02   SKIP" in printed and "needs a device identity not used yet" in printed


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    unknown = ["conformance", "--case", "NOPE-1", "--server", "http://127.0.0.1:1"]
    assert main([*unknown, "--vendor-key", "x"]) == 2
    assert "no such case: NOPE-1" in capsys.readouterr().err
    key = tmp_path / "vendor.pub"
    key.write_bytes(b"")
    assert main(["conformance", "--server", "http://127.0.0.1:1", "--vendor-key", str(key)]) == 2
    assert "cannot read the vendor key" in capsys.readouterr().err


def test_list_names_every_case(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["conformance", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[:-1]] == list(CASES)
    assert lines[-1] == f"({len(CASES)} cases)"


def test_the_pytest_entry_point_runs_the_cases_as_tests(tmp_path: Path) -> None:
    with minimal_server(tmp_path) as (_, target):
        env = {**os.environ, "PHONE_SIM_CONFORMANCE_FACTORY": str(target.factory)}
        done = subprocess.run(
            [
                sys.executable, "-m", "pytest", "--pyargs", "phone_sim.conformance", "-q",
                "-p", "no:cacheprovider", "-p", "no:randomly",
                "--conformance-server", target.url, "--conformance-vendor-key", str(target.vendor_key),
                "-k", "ACT-01 or SIG-22 or CRT-08 or POL-01",
            ],
            cwd=tmp_path, env=env, capture_output=True, text=True, check=False, timeout=120,
        )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed, 1 skipped" in done.stdout, done.stdout


def test_a_server_answering_html_pages_gets_one_line_reasons(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Played: the kit pointed at `python3 -m http.server`; every reason carried its whole HTML
    # error page, about ten lines each, 1,335 lines for the run.
    (tmp_path / "www").mkdir()
    page_server = subprocess.Popen(
        [sys.executable, "-m", "http.server", "0", "--bind", "127.0.0.1"],
        cwd=tmp_path / "www",
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert page_server.stdout is not None
        line = page_server.stdout.readline()  # "Serving HTTP on 127.0.0.1 port N ..."
        port = line.split(" port ")[1].split()[0]
        with minimal_server(tmp_path / "m") as (_, target):
            vendor_key = target.vendor_key
            factory = target.factory
        args = ["conformance", "--server", f"http://127.0.0.1:{port}"]
        args += ["--vendor-key", str(vendor_key), "--factory", str(factory)]
        args += ["--case", "ACT-01", "--case", "BOD-10"]
        assert main(args) == 1
    finally:
        page_server.terminate()
        page_server.wait(10)
    printed = capsys.readouterr().out.splitlines()
    cases = [line for line in printed if line.startswith(("ACT-01", "BOD-10"))]
    assert len(cases) == 2 and all(" FAIL " in line for line in cases), printed
    assert all("<!DOCTYPE" in line or "<html" in line.lower() for line in cases), cases
    assert len(printed) == 4 + 2 + 1, printed  # the header, two cases, the summary
    assert all(len(line) < 400 for line in printed), printed


def test_a_case_id_in_any_case_and_a_server_that_is_not_there(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Played: `--case acc-03` was refused, `ACC-3` got no suggestion, and a closed port gave
    # 130 failing cases, each "ConnectionRefusedError", instead of one message.
    with minimal_server(tmp_path) as (_, target):
        vendor_key, factory = target.vendor_key, target.factory
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = ["conformance", "--vendor-key", str(vendor_key), "--factory", str(factory)]
    assert main([*base, "--server", f"http://127.0.0.1:{port}", "--case", "ACCC-03"]) == 2
    assert "no such case: ACCC-03; did you mean 'ACC-03'?" in capsys.readouterr().err
    assert main([*base, "--server", f"http://127.0.0.1:{port}", "--case", "acc-3"]) == 2
    said = capsys.readouterr()
    assert f"http://127.0.0.1:{port}: no answer to the kit's first request" in said.err
    assert "ConnectionRefusedError" in said.err and said.out == ""


def test_another_servers_vendor_key_gets_a_hint_at_the_end(
    ours: tuple[Target, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Played: the kit pinned another world's vendor.pub; every case failed as
    # "signature_stale ... in the future", and only the header named the key.
    target, _ = ours
    other = tmp_path / "other.pub"
    other.write_bytes(public_key_pem(ed25519.Ed25519PrivateKey.generate().public_key()))
    args = ["conformance", "--server", target.url, "--vendor-key", str(other)]
    args += ["--factory", str(target.factory), "--case", "ACT-01"]
    assert main(args) == 1
    last = capsys.readouterr().out.splitlines()[-1]
    assert last.startswith(f"hint: the server's signed time did not verify with {other}")
    assert last.endswith("is that this server's public key?")
    # With the right key there is nothing to hint at.
    assert main(_args(target, "--case", "ACT-01")) == 0
    assert "hint:" not in capsys.readouterr().out
