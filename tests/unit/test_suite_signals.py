"""The suite's processes hand Ctrl-C on to what they start, even when started with it ignored.

`make test &` in a script starts the suite with SIGINT ignored; every program a test starts
inherits that, and the tests that press Ctrl-C on a server or a fleet then wait for an end that
cannot come (seen: the fleet's and the docs runner's Ctrl-C tests, each after 60 s).
tests/conftest.py takes Ctrl-C back on import.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHILD = "import signal; print(signal.getsignal(signal.SIGINT) is signal.SIG_IGN)"


def _ignoring_ctrl_c() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _child_ignores_ctrl_c(setup: str) -> str:
    """What a program started by a process that began with Ctrl-C ignored says of its own."""
    script = f"{setup}; import subprocess, sys; sys.stdout.write(subprocess.run("
    script += f"[sys.executable, '-c', {CHILD!r}], capture_output=True, text=True).stdout)"
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        preexec_fn=_ignoring_ctrl_c,  # the state a background job starts in
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip()


def test_a_program_the_suite_starts_can_be_stopped_with_ctrl_c() -> None:
    assert _child_ignores_ctrl_c("import tests.conftest") == "False"


def test_without_the_suite_it_inherits_ctrl_c_ignored() -> None:
    # What the first test would see if the conftest did nothing: the check can fail.
    assert _child_ignores_ctrl_c("pass") == "True"
