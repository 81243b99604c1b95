"""One reading of a moment typed on a command line, for both CLIs (``phone-sim --start`` and
``vendor-server serve --start``): Unix seconds, or an ISO 8601 date or time (UTC unless it says
otherwise), so the two sides of one story accept the same ``--start``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math

EXAMPLES = (
    "Unix seconds (1630497600), a date (2021-09-01) or an ISO 8601 time (2021-09-01T12:00:00Z)"
)


def parse_instant(text: str) -> float:
    """Unix seconds for ``text``; raises ValueError saying what it accepts."""
    text = text.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"{text!r} is not a time: seconds must be 0 or more")
        return seconds
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a time: use {EXAMPLES}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()


def instant_argument(text: str) -> float:
    """``parse_instant`` for argparse's ``type=``: a bad value is a usage error, not a traceback."""
    try:
        return parse_instant(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
