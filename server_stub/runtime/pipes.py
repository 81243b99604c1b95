"""What both command lines (``vendor-server``, ``phone-sim``) do about a reader that went away."""

from __future__ import annotations

import functools
import os
import select
import sys
from collections.abc import Callable
from typing import ParamSpec

P = ParamSpec("P")

#: what a shell reports for a command killed by SIGPIPE (128 + 13), as `git log | head` shows
EXIT_BROKEN_PIPE = 141


def quiet_on_broken_pipe(main: Callable[P, int]) -> Callable[P, int]:
    """Make ``main`` end quietly when its reader closes the pipe (``vendor-server ... | head``).

    Python turns the closed pipe into ``BrokenPipeError`` at the next write and, without this,
    prints a traceback for what is the reader's choice. Only standard output's pipe counts: a
    broken pipe to a child process (a server worker that died) is a failure and still raised.
    Standard output is then pointed at ``/dev/null`` so that the interpreter's own flush at
    exit does not raise it again.
    """

    @functools.wraps(main)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> int:
        try:
            code = main(*args, **kwargs)
            if sys.stdout is not None:  # None when the command was started with stdout closed
                sys.stdout.flush()  # what is still buffered meets a closed pipe here, not at exit
            return code
        except BrokenPipeError:
            if not stdout_reader_gone():
                raise
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
            return EXIT_BROKEN_PIPE

    return wrapper


def stdout_reader_gone() -> bool:
    """Whether standard output is a pipe whose reading end is closed (poll reports an error)."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, ValueError, OSError):  # None, closed, or not backed by a descriptor
        return False
    if not hasattr(select, "poll"):  # Windows: no way to ask; take the error to be stdout's
        return True
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    return any(events & select.POLLERR for _, events in poller.poll(0))
