"""What a process has used, for the reports of fleets and of several server processes."""

from __future__ import annotations

import resource
import sys


def peak_rss_kib() -> int:
    """This process's peak resident memory, in KiB.

    On Linux, ``VmHWM`` of ``/proc/self/status``: the peak of this program's own memory. Not
    ``ru_maxrss``, which on Linux carries the high-water mark over ``exec``: a process started
    by one holding 400 MiB reported at least 400 MiB, whatever it used itself (a fleet started
    by the benchmarks, after they had built 10,000 devices, reported 461 MiB for its 343).
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak  # bytes there, KiB elsewhere
