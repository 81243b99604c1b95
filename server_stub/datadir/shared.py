"""State that several server processes share through the data directory (``serve --workers N``).

The operator changes two things that every process must then agree on: the policy in force
(``DATA/policy.toml``, kept by :mod:`server_stub.policy.keeper`) and a simulated clock
(``DATA/clock.json``, :class:`SharedClock`). Both are a :class:`SharedFile`:

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
import json
import mmap
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from pathlib import Path
from struct import Struct

from phone_sim.protocol.clock import SimulatedClock
from phone_sim.protocol.files import atomic_write
from server_stub.errors import SettingsError

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

    def replace(self, data: bytes) -> int:
        """Install ``data`` (atomically; within :meth:`turn`) and return its generation."""
        atomic_write(self.path, data, mode=self.mode)
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


@dataclass(frozen=True)
class ClockState:
    """A simulated clock as every process computes it: ``now = start + advanced + run``.

    ``anchor`` is ``time.monotonic()`` when ``start`` was the time; on Linux that clock
    (CLOCK_MONOTONIC) is one for all processes of the machine, and the machine's wall clock
    being set does not move it.
    """

    start: float
    anchor: float
    speed: float
    advanced: float = 0.0

    def at(self, monotonic: float) -> float:
        return self.start + self.advanced + (monotonic - self.anchor) * self.speed

    def encode(self) -> bytes:
        fields = {
            "start": self.start,
            "anchor": self.anchor,
            "speed": self.speed,
            "advanced": self.advanced,
        }
        return json.dumps(fields).encode()

    @classmethod
    def decode(cls, data: bytes | None, source: Path) -> ClockState:
        if data is None:
            raise SettingsError(f"{source}: no shared clock has been started")
        try:
            fields = json.loads(data)
            return cls(
                start=float(fields["start"]),
                anchor=float(fields["anchor"]),
                speed=float(fields["speed"]),
                advanced=float(fields["advanced"]),
            )
        except (ValueError, TypeError, KeyError) as exc:
            raise SettingsError(f"{source}: not a shared clock: {exc}") from None


class SharedClock(SimulatedClock):
    """A simulated clock that every server process reads from one file and any can advance.

    Each :meth:`now` compares the clock file's generation with the one this process read last,
    and reads the file again if it moved, so a request that starts after an advance (in any
    process) returned sees the advanced time. An advance reads the file in its turn, adds,
    and replaces it. Like every :class:`SimulatedClock`, it never goes back in this process.

    Raises:
        SettingsError: there is no clock file, or it is not one.
    """

    def __init__(self, path: Path) -> None:
        try:
            self._file = SharedFile(path, mode=CLOCK_FILE_MODE)
            data, generation = self._file.read()
        except OSError as exc:
            raise SettingsError(f"{path}: cannot read the shared clock: {exc}") from exc
        state = ClockState.decode(data, path)
        super().__init__(state.start + state.advanced, speed=state.speed)
        self._state, self._generation = state, generation

    @classmethod
    def create(cls, path: Path, *, start: float | None, speed: float) -> SharedClock:
        """Start a clock at ``start`` (None: now) running at ``speed``, replacing any other."""
        state = ClockState(
            start=time.time() if start is None else start, anchor=time.monotonic(), speed=speed
        )
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            shared = SharedFile(path, mode=CLOCK_FILE_MODE)
            with shared.turn():
                shared.replace(state.encode())
        except OSError as exc:
            raise SettingsError(f"{path}: cannot start the shared clock: {exc}") from exc
        return cls(path)

    @property
    def path(self) -> Path:
        return self._file.path

    @property
    def speed(self) -> float:
        self._refresh()
        return self._state.speed

    def now(self) -> float:
        self._refresh()
        with self._lock:
            # Float rounding must never make time step back between two reads.
            self._last = max(self._last, self._state.at(time.monotonic()))
            return self._last

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("the simulated clock does not run backwards")
        with self._file.turn():
            state = self._read_now()  # as on disk: another process may have moved it
            self._put(replace(state, advanced=state.advanced + seconds))
        return self.now()

    def set_speed(self, speed: float) -> None:
        if speed < 0:
            raise ValueError("speed must be >= 0")
        with self._file.turn():
            state = self._read_now()
            moment = time.monotonic()
            self._put(ClockState(start=state.at(moment), anchor=moment, speed=speed))

    def _read_now(self) -> ClockState:
        data, _ = self._file.read()
        return ClockState.decode(data, self.path)

    def _put(self, state: ClockState) -> None:
        generation = self._file.replace(state.encode())
        with self._lock:
            self._state, self._generation = state, generation

    def _refresh(self) -> None:
        if self._file.generation() == self._generation:
            return
        with self._lock:
            data, generation = self._file.read()
            if generation != self._generation:
                with suppress(SettingsError):  # written whole by _put; kept as it was if not
                    self._state = ClockState.decode(data, self.path)
                self._generation = generation
