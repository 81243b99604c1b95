"""Reading policy TOML: every problem in a file is reported at once, each with its line.

The file's shape and rules are the models of :mod:`.schema`; reading goes through
:mod:`phone_sim.tomlfile`, the one way phone-sim reads TOML. A problem is a
:class:`PolicyError` whose message has one line per problem (``file:line: field: reason``).
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path

from phone_sim.tomlfile import InvalidFile, load
from server_stub.errors import PolicyError
from server_stub.policy.model import Policy
from server_stub.policy.schema import PolicyFile, PolicyWords

WORDS = PolicyWords()


def load_default_policy() -> Policy:
    """The policy packaged with the server (``server_stub/policy/packaged/default.toml``)."""
    return parse_policy(default_policy_text(), source="default.toml")


def default_policy_text() -> str:
    resource = resources.files("server_stub.policy.packaged") / "default.toml"
    return resource.read_text(encoding="utf-8")


def read_policy_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{path}: cannot read policy: {exc}") from exc


def load_policy(path: Path | None = None) -> Policy:
    """Load ``path``, or the packaged default policy when ``path`` is None."""
    if path is None:
        return load_default_policy()
    return parse_policy(read_policy_text(path), source=str(path))


def parse_policy(text: str, *, source: str = "<policy>") -> Policy:
    """The policy in ``text``; ``source`` names it in problems (a file name, "policy").

    A :class:`Policy` is frozen and depends on the text alone, so the last few texts parsed
    are kept: every world of a test run starts on the same packaged policy, whose parsing and
    validation cost each world about 5 ms of CPU (``docs/decisions/policy-parsed-once-per-text.md``).
    A text that does not validate is parsed again each time, its problems naming ``source``.

    Raises:
        PolicyError: every problem of the text; ``problems`` holds them one by one.
    """
    try:
        return _parsed(text)
    except InvalidFile as exc:
        raise PolicyError("\n".join(exc.lines(source)), problems=exc.problems) from None


@functools.lru_cache(maxsize=16)
def _parsed(text: str) -> Policy:
    policy_file, _ = load(PolicyFile, text, words=WORDS)
    return policy_file.policy()
