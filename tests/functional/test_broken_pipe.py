"""``phone-sim catalogue | head -1``: a reader that goes away ends the command quietly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from server_stub.runtime.pipes import EXIT_BROKEN_PIPE, quiet_on_broken_pipe

BIN = Path(sys.executable).parent
POLICY = Path(__file__).parents[2] / "server_stub" / "policy" / "packaged" / "default.toml"


def _run_into_a_closed_pipe(command: list[str]) -> subprocess.CompletedProcess[bytes]:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first write
    try:
        return subprocess.run(
            command, stdout=write_end, stderr=subprocess.PIPE, check=False, timeout=60
        )
    finally:
        os.close(write_end)


@pytest.mark.parametrize(
    "command",
    [
        ["phone-sim", "catalogue"],
        ["phone-sim", "scenario", "list"],
        ["vendor-server", "policy", "check", str(POLICY)],
    ],
    ids=lambda command: " ".join(command[:3]),
)
def test_no_traceback_when_the_reader_closes_the_pipe(command: list[str]) -> None:
    script = BIN / command[0]
    if not script.exists():
        pytest.skip(f"{command[0]} is not installed beside {sys.executable}")
    result = _run_into_a_closed_pipe([str(script), *command[1:]])
    assert (result.returncode, result.stderr) == (EXIT_BROKEN_PIPE, b"")


def test_a_broken_pipe_elsewhere_is_still_a_failure() -> None:
    # e.g. the fleet writing to a server worker that died: not the reader's choice to stop.
    @quiet_on_broken_pipe
    def main() -> int:
        raise BrokenPipeError(32, "Broken pipe")

    with pytest.raises(BrokenPipeError):
        main()


def test_a_command_started_without_stdout_still_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdout", None)  # what Python sets for `phone-sim catalogue >&-`
    assert quiet_on_broken_pipe(lambda: 0)() == 0
