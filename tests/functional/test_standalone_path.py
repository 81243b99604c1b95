"""The README's "vendor server on its own", run exactly as written, in two terminals.

Issue 14: the phone stopped in setup with ``401 signature_stale`` (the server on today's date,
the phone in 2021), ``a`` put them apart again, and the console had no admin token. Here the
README's two commands run as a user runs them, from a directory of their own (the repository's
Makefile, pyproject.toml and .venv, a fresh ``.phone-sim-data``): the server in the background,
the phone in a terminal of 80x24 (tmux), played with keys.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.docs_session import checkout_like, port_turn

ROOT = Path(__file__).resolve().parents[2]
PORT = 8421

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux (apt-get install tmux)"),
]


def readme_commands() -> list[str]:
    """The shell block of the README's section "The vendor server on its own", line by line."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## The vendor server on its own", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None, "the section has no sh block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def port_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


@pytest.fixture
def user_dir(tmp_path: Path) -> Path:
    """Where the user stands: a directory like the checkout (its Makefile, its venv, never
    reinstalled from here), with a data directory of its own."""
    checkout_like(tmp_path)
    return tmp_path


class Terminal:
    """A tmux session of 80x24 running one command."""

    def __init__(self, name: str, cwd: Path, command: str) -> None:
        self.name = name
        subprocess.run(
            ["tmux", "new-session", "-d", "-s", name, "-x", "80", "-y", "24", "-c", str(cwd)],
            check=True,
            env={**os.environ, "TERM": "xterm-256color"},
        )
        self.keys(command, "Enter")

    def keys(self, *keys: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, *keys], check=True)

    def screen(self) -> str:
        return subprocess.run(
            ["tmux", "capture-pane", "-p", "-t", self.name], capture_output=True, text=True
        ).stdout

    def wait_for(self, check: Callable[[str], bool], what: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while True:
            shown = self.screen()
            if check(shown):
                return shown
            if time.monotonic() > deadline:
                raise AssertionError(f"the terminal never showed {what}:\n{shown}")
            time.sleep(0.2)

    def close(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)


@pytest.fixture
def server(user_dir: Path) -> Iterator[subprocess.Popen[str]]:
    first = readme_commands()[0]
    assert first == "make serve-vendor"
    turn = port_turn()  # the docs' own blocks serve on this port too
    turn.__enter__()
    if not port_free(PORT):
        turn.__exit__(None, None, None)
        pytest.fail(f"port {PORT} is in use: the README's server cannot start (stop what uses it)")
    log = (user_dir / "serve.log").open("w")
    process = subprocess.Popen(
        shlex.split(first), cwd=user_dir, stdout=log, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while "simulated clock: 2021-09-01T12:00:00Z" not in (user_dir / "serve.log").read_text():
            assert process.poll() is None, (user_dir / "serve.log").read_text()
            assert time.monotonic() < deadline, (user_dir / "serve.log").read_text()
            time.sleep(0.1)
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):  # it may have ended by itself
            os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()
        turn.__exit__(None, None, None)


def test_the_readme_standalone_path_activates_moves_time_and_opens_the_console(
    user_dir: Path, server: subprocess.Popen[str]
) -> None:
    phone_command = readme_commands()[1]
    terminal = Terminal(f"phone-sim-standalone-{os.getpid()}", user_dir, phone_command)
    try:
        terminal.wait_for(lambda s: "Welcome" in s, "the welcome step")
        assert "01 Sep 2021" in terminal.screen()  # the phone took the vendor's time
        terminal.keys("Enter")  # language
        terminal.wait_for(lambda s: "SIM cards" in s, "the SIM cards step")
        terminal.keys("t")
        terminal.wait_for(lambda s: "SIM tray" in s and "Cubacel" in s, "the SIM tray")
        time.sleep(0.5)  # keys typed before the carrier list has focus go elsewhere
        for _ in range(6):  # Telekom, Vodafone, O2, China Mobile, China Unicom, China Telecom
            terminal.keys("Down")
            time.sleep(0.1)
        terminal.keys("Enter", "Escape")
        terminal.wait_for(
            lambda s: "1:Cubacel" in s and "Insert custom" not in s, "Cubacel in slot 1"
        )
        terminal.keys("Enter")  # SIM cards: Next
        terminal.wait_for(lambda s: "Mobile network" in s, "the mobile network step")
        time.sleep(0.3)
        terminal.keys("Enter")  # mobile network: Next, and the phone asks the vendor
        terminal.wait_for(lambda s: "Activated (ACTIVATION_OK)" in s, "the home screen")

        terminal.keys("a")  # +3 days: the world's time, the server's and the phone's
        shown = terminal.wait_for(lambda s: "does not permit" in s, "the lock screen")
        assert "04 Sep 2021" in shown, shown
        log = (user_dir / "serve.log").read_text()
        assert "POST /admin/clock/advance" in log and "signature_stale" not in log

        terminal.keys("v")  # the console, with the admin token from the data directory
        shown = terminal.wait_for(lambda s: "Audit trail" in s, "the vendor console")
        assert "No admin access" not in shown
        terminal.wait_for(lambda s: "EMBARGOED_TERRITORY" in s, "the phone locked in the fleet")
        terminal.keys("Escape")
        terminal.wait_for(lambda s: "does not permit" in s, "the lock screen again")
        terminal.keys("C-q")
        terminal.wait_for(lambda s: "does not permit" not in s, "the phone to quit")
    finally:
        terminal.close()
