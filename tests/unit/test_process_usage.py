"""A process's peak memory is its own, not that of the process that started it."""

from __future__ import annotations

import subprocess
import sys

from server_stub.runtime.usage import peak_rss_kib

MIB = 1024


def _touched(mib: int) -> bytearray:
    buffer = bytearray(mib * MIB * MIB)
    for i in range(0, len(buffer), 4096):  # resident only once written
        buffer[i] = 1
    return buffer


def _peak_in_child(code: str) -> list[int]:
    """What a fresh interpreter prints: its peak starts low, whatever this one did before."""
    setup = "from server_stub.runtime.usage import peak_rss_kib\n"
    done = subprocess.run(
        [sys.executable, "-c", setup + code], capture_output=True, text=True, check=True
    )
    return [int(word) for word in done.stdout.split()]


def test_the_peak_rises_with_what_this_process_uses() -> None:
    # In a fresh process: a high-water mark only rises past what the process once held.
    code = (
        "before = peak_rss_kib()\n"
        "held = bytearray(64 * 1024 * 1024)\n"
        "for i in range(0, len(held), 4096): held[i] = 1\n"
        "print(before, peak_rss_kib())"
    )
    before, after = _peak_in_child(code)
    assert after >= before + 60 * MIB


def test_a_child_does_not_report_its_launchers_memory() -> None:
    held = _touched(300)  # the launcher is 300 MiB larger than any child needs
    (child,) = _peak_in_child("print(peak_rss_kib())")
    assert peak_rss_kib() >= 300 * MIB
    # ru_maxrss, which this replaced, said at least 300 MiB here on Linux.
    assert 0 < child < 150 * MIB
    del held
