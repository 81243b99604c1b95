"""Benchmark 5: the TUI's time to its first boot frame, and the headless scenario suite.

* Launch: ``phone-sim`` runs in a pseudo-terminal (80 x 40, as a user's terminal) and the clock
  stops when the boot screen's "Bootloader" line reaches the terminal. The first launch on a new
  data directory also makes the factory, the vendor's key and the phone; later launches open
  them. Each is the median of a few runs; then ``ctrl+q``.
* Scenarios: ``phone-sim scenario run`` over the whole shipped library (or its first few, in a
  smoke run), headless, wall time.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

from phone_sim.scenario.library import listing

from .common import BENCH_DATA, report

MARKER = b"Bootloader"
TIMEOUT = 60.0
#: issue #17's targets: launch to first frame on an existing data directory; the shipped
#: scenarios in one `scenario run`, start-up included
FIRST_FRAME_TARGET_S = 0.4
SUITE_TARGET_S = 2.5


class MarkerWatch:
    """Watches a terminal's output, read in chunks, for ``marker``."""

    def __init__(self, marker: bytes) -> None:
        self.marker = marker
        self.kept = b""  # what could hold the start of a marker split between two reads
        self.last = b""  # the output's tail, to show when the marker never came

    def feed(self, chunk: bytes) -> bool:
        # Searched before anything is cut: one read can carry the boot screen and the next
        # screen both, and a marker far from the end of a long read is still the marker.
        window = self.kept + chunk
        self.kept = window[-(len(self.marker) - 1) :]
        self.last = (self.last + chunk)[-300:]
        return self.marker in window


def _cpu_seconds(pid: int) -> float:
    """The CPU time (user + system) process ``pid`` has used so far; 0 where /proc is not."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def first_frame(data: Path, cpu: list[float] | None = None) -> float:
    """Seconds from starting ``phone-sim`` to the boot screen on its terminal; the CPU seconds
    it had used by then are appended to ``cpu`` (a figure a busy machine moves less)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 80, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "80", "LINES": "40"}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "phone_sim.cli", "--data", str(data)],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        close_fds=True,
    )
    os.close(slave)
    watch = MarkerWatch(MARKER)
    elapsed = None
    try:
        while time.perf_counter() - started < TIMEOUT:
            ready, _, _ = select.select([master], [], [], 0.5)
            if not ready:
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break  # the program exited
            if watch.feed(chunk):
                elapsed = time.perf_counter() - started
                if cpu is not None:
                    cpu.append(_cpu_seconds(process.pid))
                break
        os.write(master, b"\x11")  # ctrl+q
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    finally:
        os.close(master)
    if elapsed is None:
        raise RuntimeError(
            f"the boot screen never appeared (exit status {process.returncode}); "
            f"the terminal's last bytes: {watch.last!r}"
        )
    return elapsed


def scenario_suite(count: int | None = None) -> tuple[float, int, str, int]:
    names = [name for name, _ in listing()][:count]
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "phone_sim.cli", "scenario", "run", *names],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr
    return seconds, len(names), last, done.returncode


def run(*, launches: int = 3, scenarios: int | None = None) -> dict[str, float]:
    runs = launches
    with tempfile.TemporaryDirectory(dir=BENCH_DATA) as tmp:
        fresh = [first_frame(Path(tmp) / f"new-{i}") for i in range(runs)]
        cpu: list[float] = []
        again = [first_frame(Path(tmp) / "new-0", cpu) for _ in range(runs)]
    suite, count, summary, status = scenario_suite(scenarios)
    existing = statistics.median(again)
    report(
        "5. TUI and scenarios",
        [
            ("launch to first boot frame, new data", f"{statistics.median(fresh):.2f} s (median of {runs})"),
            (
                "launch to first boot frame, existing",
                f"{existing:.2f} s (median of {runs}; target <= {FIRST_FRAME_TARGET_S} s: "
                f"{existing / FIRST_FRAME_TARGET_S:.1f}x)",
            ),
            ("  its CPU time to that frame", f"{statistics.median(cpu):.2f} s (median)"),
            (
                "headless scenario suite",
                f"{suite:.1f} s for {count} scenarios ({summary}; target <= {SUITE_TARGET_S} s "
                "for all of them)",
            ),
        ],
    )  # fmt: skip
    return {
        "first_frame_new_s": statistics.median(fresh),
        "first_frame_existing_s": statistics.median(again),
        "first_frame_existing_cpu_s": statistics.median(cpu),
        "scenario_suite_s": suite,
        "scenarios": count,
        # 0 when every scenario passed: the figure is only worth reading then
        "scenario_suite_exit": status,
    }
