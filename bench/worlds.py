"""Benchmark 6: what a world costs a test suite (issue #17).

* **The Cubacel story as a pytest test**, through the plugin's ``phone`` fixture (boot, SIM,
  activate, three days on, locked), ``count`` times in one pytest run; the same run with ``count``
  empty tests beside it, so that what pytest itself costs (start-up, collection, plugins) is
  taken off: the figure is the difference per test.
* **A one-phone test's fixture set-up plus teardown**: ``count`` tests that only look at the
  ``phone`` fixture's screen; pytest's own durations of their set-up and teardown phases.
* **fsync on this disk, now**: the floor under every durable commit, which on a shared virtual
  disk moves by ten times from one hour to the next (the story's contacts still commit durably).
* **The same stories with pytest's temporary directory in memory** (``/dev/shm`` when it is a
  tmpfs; not in a smoke run): each world is about thirty new files, and on ext4 a new file's
  inode is found past every inode freed in the last seconds, by us or by anyone on the disk
  (``recently_deleted``): half of a run's CPU on a busy disk, and the reason the figure moved
  from 33 to 73 ms between runs (docs/decisions/story-files-on-ext4.md).

Each pytest run is a process of its own, as a user runs it; it reports its own CPU time.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

from .common import BENCH_DATA, report

STORY = """
import pytest


@pytest.mark.parametrize("n", range({count}))
def test_cubacel_story(phone, n):
    phone.boot()
    phone.insert_sim(1, carrier="Cubacel")
    phone.activate()
    assert phone.screen == "home"
    phone.advance(days=3)
    phone.check(screen="lock", verdict_reason="EMBARGOED_TERRITORY")
"""

FIXTURE = """
import pytest


@pytest.mark.parametrize("n", range({count}))
def test_one_phone(phone, n):
    assert phone.screen == "off"
"""

EMPTY = """
import pytest


@pytest.mark.parametrize("n", range({count}))
def test_nothing(n):
    pass
"""

#: a conftest that writes pytest's own duration of every phase of every test, and the CPU time
#: its process has used by the end (its own measure: the benchmark's parts may run side by side
#: on threads, whose children's times the parent cannot tell apart)
DURATIONS = """
import json
import resource

PHASES = []


def pytest_runtest_logreport(report):
    PHASES.append([report.nodeid, report.when, report.duration, report.outcome])


def pytest_sessionfinish(session):
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
    with open("durations.json", "w") as f:
        json.dump({"phases": PHASES, "cpu": cpu}, f)
"""


def _pytest(
    folder: Path, module: str, temp_root: Path | None = None
) -> tuple[float, float, list[list[Any]]]:
    """Wall and CPU seconds of one pytest run of ``module``, and its phases.

    ``temp_root``: where pytest's temporary directories go (by default beside the module)."""
    # A base directory of the run's own: pytest's default one is shared by every run of this
    # user, and a run ends by deleting the oldest of them, whoever's it is (a full suite's: a
    # second or more), which would land at random on the stories or on the empty tests.
    basetemp = ((temp_root or folder) / f"basetemp-{Path(module).stem}").resolve()
    # Our plugin alone, as a suite that uses it has it, not every pytest plugin the dev tools
    # installed here (Hypothesis, Schemathesis, Playwright...): loading those cost each run
    # 1.1 s of CPU that no test pays (docs/decisions/bench-worlds-load-our-plugin-alone.md).
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    started = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "phone_sim.pytest_plugin",
            "-p",
            "no:cacheprovider",
            f"--basetemp={basetemp}",
            module,
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"pytest {module} failed:\n{done.stdout[-3000:]}{done.stderr[-2000:]}")
    written = json.loads((folder / "durations.json").read_text())
    return wall, float(written["cpu"]), written["phases"]


def fsync_ms(samples: int = 30) -> float:
    """The median of ``samples`` fsyncs of a small file beside the benchmark's data."""
    times = []
    fd, name = tempfile.mkstemp(dir=BENCH_DATA)
    try:
        for _ in range(samples):
            os.write(fd, b"x" * 256)
            started = time.perf_counter()
            os.fsync(fd)
            times.append(time.perf_counter() - started)
    finally:
        os.close(fd)
        os.unlink(name)
    return statistics.median(times) * 1000


def memory_filesystem() -> Path | None:
    """``/dev/shm`` if it is a tmpfs (Linux), else None."""
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return None
    shm = any(line.split()[1:3] == ["/dev/shm", "tmpfs"] for line in mounts if line.strip())
    return Path("/dev/shm") if shm and os.access("/dev/shm", os.W_OK) else None


def _in_memory(folder: Path, count: int, empty_wall: float) -> float | None:
    """Wall ms per story with pytest's temporary directories on a tmpfs, or None."""
    shm = memory_filesystem()
    if shm is None or count < 10:  # not in a smoke run: its figures are not read
        return None
    with tempfile.TemporaryDirectory(dir=shm, prefix="phone-sim-bench-") as tmp:
        wall, _, _ = _pytest(folder, "test_story.py", Path(tmp))
        empty, _, _ = _pytest(folder, "test_empty.py", Path(tmp))
    return (wall - min(empty, empty_wall)) / count * 1000


def run(count: int = 100) -> dict[str, float]:
    with tempfile.TemporaryDirectory(dir=BENCH_DATA) as tmp:
        folder = Path(tmp)
        (folder / "pytest.ini").write_text("[pytest]\n")
        (folder / "conftest.py").write_text(DURATIONS)
        for name, body in (("story", STORY), ("fixture", FIXTURE), ("empty", EMPTY)):
            (folder / f"test_{name}.py").write_text(textwrap.dedent(body.format(count=count)))
        first_empty = _pytest(folder, "test_empty.py")
        story_wall, story_cpu, phases = _pytest(folder, "test_story.py")
        _, _, fixture = _pytest(folder, "test_fixture.py")
        # pytest's own cost moves with the machine: the cheaper of two runs, before and after
        # (a smoke run, a few tests, only checks that the part runs: one is enough there)
        second_empty = _pytest(folder, "test_empty.py") if count >= 10 else first_empty
        empty_wall, empty_cpu, _ = min(first_empty, second_empty)
        in_memory = _in_memory(folder, count, empty_wall)
    disk = fsync_ms()
    per_test = (story_wall - empty_wall) / count
    cpu_per_test = (story_cpu - empty_cpu) / count
    # The first test also pays the imports of the server's stack: the others are the figure.
    setups = {str(p[0]): float(p[2]) for p in fixture if p[1] == "setup"}
    teardowns = {str(p[0]): float(p[2]) for p in fixture if p[1] == "teardown"}
    pairs = [setups[n] + teardowns[n] for n in list(setups)[1:] if n in teardowns]
    fixture_ms = statistics.median(pairs) * 1000 if pairs else float("nan")
    calls = [float(p[2]) for p in phases if p[1] == "call"][1:]
    call_ms = statistics.median(calls) * 1000 if calls else float("nan")
    story = (
        f"{per_test * 1000:.1f} ms wall per test, {cpu_per_test * 1000:.1f} ms CPU "
        f"(in a run of {count}; target <= 50 ms)"
    )
    own = f"{story_wall:.2f} s for the stories, {empty_wall:.2f} s for as many empty tests"
    report(
        "6. tests: a world per test, through the pytest plugin",
        [
            ("the Cubacel story as a test", story),
            ("  pytest's own run", own),
            ("  the story's own steps", f"median {call_ms:.1f} ms (pytest's call phase)"),
            (
                "  pytest's temporary directory in memory",
                "not run (smoke run, or no tmpfs at /dev/shm)"
                if in_memory is None
                else f"{in_memory:.1f} ms wall per test (the same stories, /dev/shm)",
            ),
            ("phone fixture set-up + teardown", f"median {fixture_ms:.1f} ms (target <= 30 ms)"),
            ("fsync on this disk now", f"median {disk:.2f} ms (the floor of each durable commit)"),
        ],
    )
    return {
        "story_ms_per_test": per_test * 1000,
        "story_cpu_ms_per_test": cpu_per_test * 1000,
        "story_call_ms": call_ms,
        "fixture_setup_teardown_ms": fixture_ms,
        "fsync_ms": disk,
    } | ({} if in_memory is None else {"story_ms_per_test_in_memory": in_memory})
