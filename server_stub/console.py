"""What both command lines (``vendor-server``, ``phone-sim``) do about a reader that went away."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import ParamSpec

P = ParamSpec("P")

#: what a shell reports for a command killed by SIGPIPE (128 + 13), as `git log | head` shows
EXIT_BROKEN_PIPE = 141


def quiet_on_broken_pipe(main: Callable[P, int]) -> Callable[P, int]:
    """Make ``main`` end quietly when its reader closes the pipe (``vendor-server ... | head``).

    Python turns the closed pipe into ``BrokenPipeError`` at the next write and, without this,
    prints a traceback for what is the reader's choice. Standard output is pointed at
    ``/dev/null`` so that the interpreter's own flush at exit does not raise it again.
    """

    @functools.wraps(main)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> int:
        try:
            code = main(*args, **kwargs)
            sys.stdout.flush()  # what is still buffered meets the closed pipe here, not at exit
            return code
        except BrokenPipeError:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
            return EXIT_BROKEN_PIPE

    return wrapper
