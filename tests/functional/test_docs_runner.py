"""The runner of documented blocks (tests/support/docs_runner.py) fails what it must.

A documented block passes only if its commands did what their annotation says; here each kind of
step is given a command that does and one that does not, in a scratch directory.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.docs_runner import run_plan


@pytest.fixture(autouse=True)
def scratch(tmp_path: Path) -> Iterator[Path]:
    here = Path.cwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(here)


def _step(kind: str, command: str, **more: str) -> dict[str, Any]:
    return {"kind": kind, "command": command, "origin": "DOC.md:1", **more}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_plain_commands_share_one_shell_and_the_first_failure_stops_the_block() -> None:
    ok = run_plan([_step("run", "X=docs"), _step("run", 'test "$X" = docs')])
    assert [o.passed for o in ok] == [True]
    failed = run_plan([_step("run", "true"), _step("run", "false"), _step("run", "touch after")])
    assert [o.passed for o in failed] == [False]
    assert "this command failed: false" in failed[0].detail
    assert not Path("after").exists()


def test_a_terminal_program_must_show_the_text_and_end_on_ctrl_q() -> None:
    # In raw mode (as a TUI puts its terminal), `head -c 1` gets ctrl+q and ends: a program that
    # quits on it.
    shows = "stty raw -echo; printf 'Welcome\\n'; head -c 1 >/dev/null; exit 0"
    assert run_plan([_step("terminal", shows, expect="Welcome")])[0].passed
    never = run_plan([_step("terminal", "printf 'Goodbye\\n'", expect="Welcome")])[0]
    assert not never.passed and "never showed" in never.detail
    status = run_plan([_step("terminal", f"{shows[:-6]}exit 3", expect="Welcome")])[0]
    assert not status.passed and "status 3" in status.detail


def test_a_server_must_answer_its_url_and_end_on_ctrl_c() -> None:
    port = _free_port()
    serve = f"{sys.executable} -m http.server {port} --bind 127.0.0.1"
    url = f"http://127.0.0.1:{port}/"
    outcomes = run_plan([_step("background", serve, ready=url), _step("run", f"curl -sf {url}")])
    assert [(o.kind, o.passed) for o in outcomes] == [
        ("background", True),
        ("run", True),
        ("stop", True),
    ]
    gone = run_plan([_step("server", "exit 1", ready=url)])[0]
    assert not gone.passed and "before" in gone.detail


def test_a_python_example_runs_as_a_pytest_file_and_its_failure_fails_the_block() -> None:
    (Path(".venv") / "bin").mkdir(parents=True)
    (Path(".venv") / "bin" / "python").symlink_to(sys.executable)
    passing = "def test_it():\n    assert 1 + 1 == 2\n"
    assert run_plan([_step("pytest", passing)])[0].passed
    failing = run_plan([_step("pytest", "def test_it():\n    assert 1 + 1 == 3\n")])[0]
    assert not failing.passed and "1 failed" in failing.detail
