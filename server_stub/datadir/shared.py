"""State that several server processes share through the data directory (``serve --workers N``).

The operator changes two things that every process must then agree on: the policy in force
(``DATA/policy.toml``, kept by :mod:`server_stub.policy.keeper`) and the world's clock
(``DATA/clock.json``, :class:`server_stub.datadir.clock.SharedClock`). Both are a
:class:`SharedFile`:

* **Writers take turns** on an ``flock``, read the file as it is on disk, replace it atomically,
  and then count one more in the file's **generation**: 8 bytes in ``NAME.gen`` beside it, which
  every process maps into its memory.
* **Readers compare generations.** A process keeps its copy of the file with the generation it
  read it at, and before using the copy compares that with the generation now: a read of shared
  memory, no system call (0.1 to 0.2 µs; a ``stat`` of the file, the other way to notice a
  change, costs 2 µs and lets go of the interpreter lock). The copy is read again only when
  the generation moved, so a request that starts after a change returned (in any process)
  sees the change. Unlike a file's modification time, a generation cannot repeat.

The files change only through these writers: an edit by hand is not seen by a running server
(as with one process), and the next change through the admin API replaces it anyway.
"""

from __future__ import annotations

import fcntl
import mmap
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from struct import Struct

from phone_sim.protocol.files import atomic_write

_COUNTER = Struct("<Q")
#: The clock file is not a secret.
CLOCK_FILE_MODE = 0o644


class SharedFile:
    """A file of the data directory that several processes read, and replace in turns.

    Args:
        path: the file (it need not exist yet).
        mode: its permissions once written.

    Raises:
        OSError: the generation file cannot be made or mapped.
    """

    def __init__(self, path: Path, *, mode: int) -> None:
        self.path = path
        self.mode = mode
        self._gen_path = path.with_suffix(".gen")
        self._threads = threading.Lock()
        fd = os.open(self._gen_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if os.fstat(fd).st_size < _COUNTER.size:
                os.ftruncate(fd, _COUNTER.size)  # zeros; never shrinks a counter in use
            self._counter = mmap.mmap(fd, _COUNTER.size)  # stays mapped once the fd is closed
        finally:
            os.close(fd)

    def generation(self) -> int:
        """How many times the file has been replaced: one read of shared memory."""
        value: int = _COUNTER.unpack_from(self._counter)[0]
        return value

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Held by one thread of one process at a time: a thread lock, then ``flock``.

        An ``flock`` belongs to an open file, which every thread of a process would share; the
        thread lock keeps two threads of one process from both holding it. The file is opened
        for each turn (turns are an operator's actions: rare), so there is nothing to close.
        """
        with self._threads:
            fd = os.open(self._gen_path, os.O_RDWR)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)  # blocks without the GIL
                yield
            finally:
                os.close(fd)  # releases the flock

    def replace(self, data: bytes, *, durable: bool = True) -> int:
        """Install ``data`` (atomically; within :meth:`turn`) and return its generation.

        ``durable=False`` skips the fsyncs: a crash may then lose this change (never tear it).
        """
        atomic_write(self.path, data, mode=self.mode, durable=durable)
        generation = self.generation() + 1
        # After the file: whoever sees the new generation finds the new file.
        _COUNTER.pack_into(self._counter, 0, generation)
        return generation

    def read(self) -> tuple[bytes | None, int]:
        """The file (None if there is none) and a generation it is at least as new as."""
        generation = self.generation()  # before the file: a later replace shows as a change
        try:
            return self.path.read_bytes(), generation
        except FileNotFoundError:
            return None, generation
