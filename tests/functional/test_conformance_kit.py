"""The conformance kit against our server and against a minimal server written from the spec.

Our server declares every optional feature and the story's policy, so it must pass every case.
The minimal server (tests/support/minimal_server.py) has no policy and no admin API: it must
pass every protocol case, and its policy and optional cases are skipped, saying why. A server
that refuses everything fails every case: a negative case's twin must be accepted first.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread

import pytest

from phone_sim.conformance.cases import CASES
from phone_sim.conformance.clock import ServerTime
from phone_sim.conformance.registry import Group
from phone_sim.conformance.runner import Verdict, run_case, run_cases
from tests.support.conformance import Target, minimal_server, our_server

ROOT = Path(__file__).resolve().parents[2]
SERVERS = [
    ROOT / "tests" / "support" / "minimal_server.py",
    ROOT / "tests" / "support" / "broken_server.py",
]


@pytest.fixture(scope="module")
def ours(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    with our_server(tmp_path_factory.mktemp("ours")) as (_, target):
        yield target


@pytest.fixture(scope="module")
def minimal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    with minimal_server(tmp_path_factory.mktemp("minimal")) as (_, target):
        yield target


def _report(results: list[tuple[str, Verdict, str]]) -> str:
    return "\n".join(f"{case} {verdict.value}: {reason}" for case, verdict, reason in results)


def test_our_server_passes_every_case(ours: Target) -> None:
    kit = ours.kit()
    assert kit.time.source.startswith("the server's signed time")
    run = run_cases(kit, CASES.values())
    bad = [(r.case.id, r.verdict, r.reason) for r in run.results if r.verdict is not Verdict.PASS]
    assert not bad, _report(bad)
    assert len(run.results) == len(CASES)


def test_the_minimal_server_passes_every_protocol_case(minimal: Target) -> None:
    run = run_cases(minimal.kit(), CASES.values())
    for result in run.results:
        if result.case.group is Group.PROTOCOL:
            assert result.verdict is Verdict.PASS, f"{result.case.id}: {result.reason}"
        else:  # no policy declared, no admin API: skipped and saying so, never failed
            assert result.verdict is Verdict.SKIP, f"{result.case.id}: {result.reason}"
            assert "not declared" in result.reason or "declares policy" in result.reason


def test_the_minimal_server_imports_neither_phone_sim_nor_server_stub() -> None:
    code = (
        "import sys\n"
        "import tests.support.minimal_server, tests.support.broken_server\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'phone_sim', 'server_stub'}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"
    for path in SERVERS:  # and not lazily either: no import statement names them
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = [
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        ]
        names += [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
        assert not [n for n in names if n.split(".")[0] in ("phone_sim", "server_stub")], path


class _RefuseEverything(BaseHTTPRequestHandler):
    def _refuse(self) -> None:
        body = json.dumps({"error": {"code": "signature_invalid", "message": "no"}}).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _refuse

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_server_that_refuses_everything_fails_every_case(minimal: Target, tmp_path: Path) -> None:
    http = ThreadingHTTPServer(("127.0.0.1", 0), _RefuseEverything)
    Thread(target=http.serve_forever, daemon=True).start()
    try:
        target = Target(
            f"http://127.0.0.1:{http.server_address[1]}", minimal.vendor_key, minimal.factory
        )
        kit = target.kit()
        assert kit.time.source.startswith("this machine's clock (no valid signed time")
        protocol = [c for c in CASES.values() if c.group is Group.PROTOCOL]
        results = [run_case(kit, case) for case in protocol]
    finally:
        http.shutdown()
        http.server_close()
    passed = [r.case.id for r in results if r.verdict is not Verdict.FAIL]
    assert not passed
    twins = [r for r in results if "twin was not accepted" in r.reason]
    assert len(twins) > 60  # the negative cases fail on their twin, not on the refusal


class _SaysItRunsFast(ServerTime):
    """A server's time answer that gave a speed its clock does not keep: the minimal server
    keeps real time, so the kit's time must too, or under load the seconds the skipped cases
    take become hours between the kit's ``created`` and the server's clock."""

    def now(self) -> int:
        return int(self.base + (time.monotonic() - self.read_at))


def test_cases_with_time_margins_are_skipped_on_a_fast_clock(minimal: Target) -> None:
    kit = minimal.kit()
    said = kit.time  # what a server running an hour a second would answer:
    kit.time = _SaysItRunsFast(said.base, 3600.0, said.read_at, said.source)
    for case_id in ("SIG-05", "STL-01", "ORD-01", "TIM-01"):
        result = run_case(kit, CASES[case_id])
        assert result.verdict is Verdict.SKIP, f"{case_id}: {result.reason}"
        assert "runs 3600 times real time" in result.reason
    assert run_case(kit, CASES["SIG-22"]).verdict is Verdict.PASS  # the rest runs
