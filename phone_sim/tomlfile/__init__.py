"""One way to read a TOML file: parsed safely, validated by closed pydantic models, and every
problem reported at once with its line.

The policy (``server_stub.policy``), scenario files (``phone_sim.scenario``) and the fleet's
SIM mix (``phone_sim.fleet.mix``) all read their files here:

* :mod:`.lexer` and :mod:`.positions` find the line of every key path and measure nesting
  before ``tomllib`` reads the text (it recurses once per level);
* :mod:`.validate` turns text or data into a validated model, or raises
  :class:`InvalidFile` with every problem;
* :mod:`.problems` holds :class:`Problem`, :func:`problem` and :class:`Findings` for model
  validators, and :class:`Words`, which a kind of file subclasses to keep its own phrasing;
* :mod:`.models` holds :class:`Closed`, the base of every file model.

Both sides import it (the vendor server reads policies), so it imports neither: only the
standard library and pydantic (an import-linter contract keeps it so).
"""

from .models import Closed, Lax
from .positions import MAX_DEPTH, Path, Positions
from .problems import (
    Findings,
    InvalidFile,
    Problem,
    Words,
    did_you_mean,
    problem,
    problem_at,
    unknown,
)
from .validate import check, load, parse

__all__ = [
    "MAX_DEPTH",
    "Closed",
    "Findings",
    "InvalidFile",
    "Lax",
    "Path",
    "Positions",
    "Problem",
    "Words",
    "check",
    "did_you_mean",
    "load",
    "parse",
    "problem",
    "problem_at",
    "unknown",
]
