"""A process's peak memory is its own, not that of the process that started it."""

from __future__ import annotations

import subprocess
import sys

from server_stub.usage import peak_rss_kib

MIB = 1024


def _touched(mib: int) -> bytearray:
    buffer = bytearray(mib * MIB * MIB)
    for i in range(0, len(buffer), 4096):  # resident only once written
        buffer[i] = 1
    return buffer


def test_the_peak_rises_with_what_this_process_uses() -> None:
    before = peak_rss_kib()
    held = _touched(64)
    assert peak_rss_kib() >= before + 60 * MIB
    del held


def test_a_child_does_not_report_its_launchers_memory() -> None:
    held = _touched(300)  # the launcher is 300 MiB larger than any child needs
    code = "from server_stub.usage import peak_rss_kib; print(peak_rss_kib())"
    child = int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                               check=True).stdout)  # fmt: skip
    assert peak_rss_kib() >= 300 * MIB
    # ru_maxrss, which this replaced, said at least 300 MiB here on Linux.
    assert 0 < child < 150 * MIB
    del held
