"""Runs one documented block's plan (tests/support/docs_blocks.py) and says how each step went.

``python -m tests.support.docs_runner PLAN.json RESULT.json``: the test starts it in the fresh
directory the block runs in, where it can, inside a network namespace of its own
(``unshare --net --map-root-user``), whose loopback it brings up first: a documented server
then listens on the documented port (8421) without meeting a developer's server or another
block's. It writes RESULT.json and exits 0 when every step passed.

Steps: ``run`` (consecutive ones in one ``bash -e``), ``terminal`` (a pseudo-terminal of
80 x 24: wait for the expected text, ctrl+q, the program must end with 0), ``server`` and
``background`` (started in a session of their own, waited for until their URL answers; SIGINT
to the session at the end, and they must end with 0), ``pytest`` and ``python`` (the block's
text as a file, run by ``.venv/bin/python``), ``skip``.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import pty
import re
import resource
import select
import signal
import socket
import struct
import subprocess
import sys
import termios
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

#: longest a block's plain commands may run: the longest, `make bench` at its smallest size, takes
#: 40-100 s beside the rest of the suite on a crowded 2-core machine (a deadline, not a figure)
RUN_TIMEOUT = 420.0
READY_TIMEOUT = 60.0
SCREEN_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0
_ESCAPES = re.compile(
    rb"\x1b(\[[0-9;?<>=]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[()][0-9A-Za-z]|.)"
)
#: ioctl numbers of Linux's <linux/sockios.h>, and IFF_UP
_SIOCGIFFLAGS, _SIOCSIFFLAGS, _IFF_UP = 0x8913, 0x8914, 0x1


@dataclass
class Outcome:
    origin: str
    kind: str
    command: str
    passed: bool
    seconds: float
    detail: str = ""
    #: CPU seconds of the processes it ran that ended (a background server's, at its stop)
    cpu: float = 0.0


class StepFailed(Exception):
    pass


def loopback_up() -> None:
    """Bring ``lo`` up (a new network namespace starts with it down)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        request = struct.pack("16sh", b"lo", 0)
        flags = struct.unpack("16sh", fcntl.ioctl(s, _SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(s, _SIOCSIFFLAGS, struct.pack("16sh", b"lo", flags | _IFF_UP))


_NOTABLE = re.compile(r"fail|error|traceback", re.I)


def _tail(text: str | bytes, n: int = 2500) -> str:
    """The end of ``text``, after the lines that say what failed (a long output's failure is
    often far from its end)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if len(text) <= n:
        return text
    notable = [line for line in text.splitlines() if _NOTABLE.search(line)][:20]
    return "\n".join([*notable, "..."]) + "\n" + text[-n:]


def run_shell(commands: list[str]) -> str:
    """Commands in one ``bash -e``; the first to fail stops them and is named."""
    trap = "trap 'echo \"docs-run: this command failed: $BASH_COMMAND\" >&2' ERR\n"
    script = trap + "\n".join(commands) + "\n"
    try:
        done = subprocess.run(
            ["bash", "-e", "-c", script],
            capture_output=True,
            timeout=RUN_TIMEOUT,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise StepFailed(
            f"still running after {RUN_TIMEOUT:.0f} s: {_tail(exc.stdout or b'')}"
        ) from None
    if done.returncode != 0:
        raise StepFailed(
            f"exit status {done.returncode}\n{_tail(done.stdout)}\n{_tail(done.stderr)}"
        )
    return _tail(done.stdout, 600)


def run_in_terminal(command: str, expect: str) -> str:
    """``command`` in a pseudo-terminal of 80 x 24 until ``expect`` shows; then ctrl+q."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = os.environ | {"TERM": "xterm-256color", "COLUMNS": "80", "LINES": "24"}
    process = subprocess.Popen(
        ["bash", "-c", command], stdin=slave, stdout=slave, stderr=slave, env=env,
        start_new_session=True,
    )  # fmt: skip
    os.close(slave)
    seen = b""
    shown = False
    deadline = time.monotonic() + SCREEN_TIMEOUT
    try:
        while not shown and time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    seen += os.read(master, 65536)
                except OSError:
                    break  # the program ended
                shown = expect.encode() in _ESCAPES.sub(b"", seen)
            elif process.poll() is not None:
                break
        if not shown:
            process.kill()
            process.wait()
            screen = _tail(_ESCAPES.sub(b" ", seen), 800)
            raise StepFailed(
                f"{expect!r} never showed (exit status {process.returncode}): {screen}"
            )
        os.write(master, b"\x11")  # ctrl+q
        if not _drain_until_ended(master, process, STOP_TIMEOUT):
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise StepFailed(f"showed {expect!r} but did not end on ctrl+q")
        status = process.wait()
        if status != 0:
            raise StepFailed(f"showed {expect!r}, ended on ctrl+q with status {status}")
    finally:
        os.close(master)
    return f"showed {expect!r}; ended on ctrl+q"


def _drain_until_ended(master: int, process: subprocess.Popen[bytes], seconds: float) -> bool:
    """Read the terminal (a program blocks when nobody does) until ``process`` ends."""
    deadline = time.monotonic() + seconds
    while process.poll() is None and time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                os.read(master, 65536)
            except OSError:
                time.sleep(0.05)  # the terminal closed: the process is ending
    return process.poll() is not None


class Served:
    """A command that serves until interrupted, started and waited for."""

    def __init__(self, command: str, ready: str, log: Path) -> None:
        self.command, self.ready, self.log = command, ready, log
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                ["bash", "-c", command], stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            if self.process.poll() is not None:
                raise StepFailed(
                    f"ended with status {self.process.returncode} before {ready} answered\n"
                    + _tail(log.read_bytes())
                )
            try:
                with urllib.request.urlopen(ready, timeout=2):
                    return
            except urllib.error.HTTPError:
                return  # it answers
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise StepFailed(
                        f"{ready} did not answer within {READY_TIMEOUT:.0f} s"
                    ) from None
                time.sleep(0.1)

    def stop(self) -> None:
        """SIGINT to its session, as Ctrl-C in its terminal; it must end, with status 0 (or, as
        ``make`` does when what it runs is interrupted, by the signal itself)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
        try:
            status = self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            raise StepFailed(f"did not end within {STOP_TIMEOUT:.0f} s of SIGINT") from None
        if status not in (0, -signal.SIGINT, 128 + signal.SIGINT):
            raise StepFailed(
                f"ended with status {status} on SIGINT\n{_tail(self.log.read_bytes())}"
            )


def run_python(text: str, origin: str, pytest: bool) -> str:
    # The text's hash in the name: two texts written to one name within a second looked the
    # same to Python's bytecode cache (and pytest's), which ran the first one again.
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    name = re.sub(r"\W", "_", origin.lower()).strip("_") + f"_{digest}"
    path = Path(f"test_{name}.py" if pytest else f"{name}.py")
    path.write_text(text, encoding="utf-8")
    command = [".venv/bin/python", *(["-m", "pytest", "-q", "-p", "no:cacheprovider"] * pytest)]
    done = subprocess.run(
        [*command, str(path)], capture_output=True, timeout=RUN_TIMEOUT, check=False,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    if done.returncode != 0:
        raise StepFailed(
            f"exit status {done.returncode}\n{_tail(done.stdout)}\n{_tail(done.stderr)}"
        )
    return _tail(done.stdout, 300)


def _group(steps: list[dict[str, Any]], i: int) -> list[dict[str, Any]]:
    """The step at ``i``, and the plain commands of the same block right after it: one shell."""
    group = [steps[i]]
    while (
        steps[i]["kind"] == "run"
        and i + len(group) < len(steps)
        and steps[i + len(group)]["kind"] == "run"
        and steps[i + len(group)]["origin"] == steps[i]["origin"]
    ):
        group.append(steps[i + len(group)])
    return group


def _do(group: list[dict[str, Any]], served: list[tuple[dict[str, Any], Served]]) -> str:
    """Run one group of steps; what to report of it. Raises StepFailed."""
    step, command = group[0], "\n".join(s["command"] for s in group)
    kind = step["kind"]
    if kind == "skip":
        return str(step["reason"])
    if kind == "run":
        return run_shell([s["command"] for s in group])
    if kind == "terminal":
        return run_in_terminal(command, step["expect"])
    if kind in ("server", "background"):
        server = Served(command, step["ready"], Path(f"docs-run-server-{len(served)}.log"))
        if kind == "server":
            server.stop()
            return f"{step['ready']} answered; ended on SIGINT"
        served.append((step, server))
        return f"{step['ready']} answered; left running"
    return run_python(step["command"], step["origin"], kind == "pytest")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_plan(steps: list[dict[str, Any]]) -> list[Outcome]:
    """Each step in turn until one fails; then every background command is stopped."""
    outcomes: list[Outcome] = []
    served: list[tuple[dict[str, Any], Served]] = []
    i = 0
    while i < len(steps) and all(o.passed for o in outcomes):
        group = _group(steps, i)
        i += len(group)
        step, command = group[0], "\n".join(s["command"] for s in group)
        started, cpu = time.monotonic(), _children_cpu()
        try:
            passed, detail = True, _do(group, served)
        except StepFailed as exc:
            passed, detail = False, str(exc)
        seconds, cpu = time.monotonic() - started, _children_cpu() - cpu
        outcomes.append(
            Outcome(step["origin"], step["kind"], command, passed, seconds, detail, cpu)
        )
    for step, server in reversed(served):
        started, cpu = time.monotonic(), _children_cpu()
        try:
            server.stop()
            passed, detail = True, "ended on SIGINT"
        except StepFailed as exc:
            passed, detail = False, str(exc)
        seconds, cpu = time.monotonic() - started, _children_cpu() - cpu
        outcomes.append(
            Outcome(step["origin"], "stop", step["command"], passed, seconds, detail, cpu)
        )
    return outcomes


def main(argv: list[str]) -> int:
    plan = json.loads(Path(argv[0]).read_text())
    if plan["namespace"]:
        loopback_up()
    outcomes = run_plan(plan["steps"])
    Path(argv[1]).write_text(json.dumps([asdict(o) for o in outcomes], indent=1))
    return 0 if all(o.passed for o in outcomes) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
