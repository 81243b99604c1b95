"""`make run` and `make serve-vendor` keep worlds of their own (issue 14: both used
`.phone-sim-data/vendor`, one on simulated time and the other on real time)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def planned(target: str) -> str:
    """The last command ``make -n`` would run for ``target`` (nothing is run)."""
    # -o: take the install stamps as up to date, so the plan is the target's own command.
    # --no-print-directory: under `make pytest` this make is a sub-make, which would otherwise
    # end its output with "Leaving directory".
    command = ["make", "--no-print-directory", "-n", "-o", ".venv/.installed"]
    out = subprocess.run(
        [*command, "-o", ".venv/.installed-dev", target],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return out.strip().splitlines()[-1]


def test_run_and_serve_vendor_do_not_share_a_vendor_directory() -> None:
    run, serve = planned("run"), planned("serve-vendor")
    run_data = re.search(r"--data (\S+)", run)
    serve_data = re.search(r"--data (\S+)", serve)
    assert run_data and serve_data, (run, serve)
    run_vendor = Path(run_data.group(1)) / "vendor"
    serve_vendor = Path(serve_data.group(1))
    assert run_vendor != serve_vendor, (run, serve)
    # The standalone server serves a simulated world (the README's phone command joins it).
    assert "--clock simulated" in serve
