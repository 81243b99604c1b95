"""Where a server process keeps the policy in force, and how a replacement takes its turn.

* :class:`PolicyKeeper`: one process. The policy in force is an attribute; replacements take
  turns on a thread lock.
* :class:`SharedPolicyKeeper`: several processes serving one data directory
  (``vendor-server serve --workers N``). The policy in force is the installed file,
  ``DATA/policy.toml``, a :class:`~server_stub.datadir.shared.SharedFile`: every read compares
  its generation with the one this process parsed (a read of shared memory) and parses it
  again when it moved, so a process decides each request by the policy installed when the
  request started, whichever process installed it. Replacements take turns on the file's lock
  and compare against the policy on disk.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from phone_sim.protocol.files import atomic_write
from server_stub.datadir.shared import SharedFile
from server_stub.errors import PolicyError
from server_stub.policy import Policy, parse_policy

#: Readable by others: a policy is not a secret, and phones' users may want to read it.
POLICY_FILE_MODE = 0o644

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PolicyInForce:
    """The policy deciding now, with the exact text it was read from and where that came from."""

    policy: Policy
    text: str
    source: str


class PolicyKeeper:
    """The policy in force in a server that is the only process serving its data directory."""

    def __init__(self, initial: PolicyInForce, path: Path) -> None:
        #: where an installed policy is kept (``DATA/policy.toml``)
        self.path = path
        self._in_force = initial
        self._turns = threading.Lock()

    def current(self) -> PolicyInForce:
        # One attribute read: a request sees the old policy or the new one, never a mixture.
        return self._in_force

    @contextmanager
    def turn(self) -> Iterator[PolicyInForce]:
        """Held while a policy is replaced, so two replacements cannot interleave their writes.

        Yields:
            The policy in force as the turn begins.
        """
        with self._turns:
            yield self.current()

    def write(self, text: str) -> None:
        """Install ``text`` on disk (within :meth:`turn`), before it takes effect here."""
        atomic_write(self.path, text.encode(), mode=POLICY_FILE_MODE)

    def put(self, in_force: PolicyInForce) -> None:
        """Make ``in_force`` (just written) the policy in force (within :meth:`turn`)."""
        self._in_force = in_force


class SharedPolicyKeeper(PolicyKeeper):
    """The policy in force is ``path`` as last installed, by whichever process installed it."""

    def __init__(self, initial: PolicyInForce, path: Path) -> None:
        super().__init__(initial, path)
        self._file = SharedFile(path, mode=POLICY_FILE_MODE)
        self._reload = threading.Lock()
        # Unknown: the first read reads the file, whatever ``initial`` was read from, since
        # another process may have replaced it since.
        self._generation = -1
        self._written = -1

    def current(self) -> PolicyInForce:
        if self._file.generation() != self._generation:
            self._read()
        return self._in_force

    @contextmanager
    def turn(self) -> Iterator[PolicyInForce]:
        with self._turns, self._file.turn():
            yield self.current()  # as installed now: other processes take turns on the file

    def write(self, text: str) -> None:
        self._written = self._file.replace(text.encode())

    def put(self, in_force: PolicyInForce) -> None:
        with self._reload:
            # The policy before the generation: a thread that sees the new generation (and
            # so does not read the file) takes the new policy.
            self._in_force = in_force
            self._generation = self._written

    def _read(self) -> None:
        with self._reload:
            data, generation = self._file.read()
            if generation == self._generation:
                return  # another thread read it
            # None: no policy was ever installed, and ``initial`` (the packaged one) decides.
            if data is not None and data != self._in_force.text.encode():
                try:
                    text = data.decode("utf-8")
                    policy = parse_policy(text, source=str(self.path))
                except (UnicodeDecodeError, PolicyError) as exc:
                    # Only a file changed by hand and then seen here gets here (the admin API
                    # installs validated policies): keep deciding by the policy in force.
                    log.warning("%s: not installed, the policy in force stays: %s", self.path, exc)
                else:
                    self._in_force = PolicyInForce(policy, text, str(self.path))
            self._generation = generation
