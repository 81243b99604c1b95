"""The world's time, kept by the vendor in its data directory (``DATA/clock.json``).

The vendor holds a world's time (``docs/decisions/one-world-one-time.md``). The file says which
kind of time the world runs on and, for simulated time, where it stands::

    {"version": 2, "mode": "simulated", "base": 1630497600.0, "anchor": 5123.4,
     "boot": "3b4e...", "speed": 1.0}

``now = base + (monotonic() - anchor) * speed`` while ``anchor`` is set and belongs to this boot
of the machine (``time.monotonic`` is one clock for every process of a boot on Linux); ``anchor``
null means time stands at ``base`` (the server stopped). Every server process of the directory
reads it through :class:`SharedClock`, and any of them (or a driver holding the directory) moves
it: turns on an ``flock`` and a generation counter, as :mod:`server_stub.datadir.shared` does.

**A restart resumes** the recorded time: the server that starts (:func:`open_server_clock`) takes
the later of the file's time and the latest time any record of the store carries, so time never
runs back over history. ``--start`` applies to a new directory; on one with history a start
earlier than that history is refused (:class:`ClockHistoryError`), naming both times.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from phone_sim.protocol.clock import STORY_START, ClockMode, RealTime, SimulatedClock
from server_stub.datadir.shared import SharedFile
from server_stub.errors import SettingsError

#: The clock file is not a secret.
CLOCK_FILE_MODE = 0o644
CLOCK_FILE_VERSION = 2
_BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


class ClockHistoryError(SettingsError):
    """A start earlier than the time the data directory already holds."""


def boot_id() -> str:
    """This boot of the machine: a monotonic anchor from another boot means nothing."""
    try:
        return _BOOT_ID.read_text().strip()
    except OSError:
        return "unknown"


def iso(moment: float) -> str:
    return dt.datetime.fromtimestamp(moment, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class ClockRecord:
    """The clock file's content."""

    mode: ClockMode
    base: float = 0.0
    anchor: float | None = None
    boot: str | None = None
    speed: float = 1.0

    def at(self, monotonic: float, boot: str) -> float:
        """The time at ``monotonic`` (of ``boot``): it runs only while anchored in that boot."""
        if self.anchor is None or self.boot != boot:
            return self.base
        return self.base + (monotonic - self.anchor) * self.speed

    def encode(self) -> bytes:
        fields: dict[str, Any] = {
            "version": CLOCK_FILE_VERSION,
            "mode": self.mode.value,
            "base": self.base,
            "anchor": self.anchor,
            "boot": self.boot,
            "speed": self.speed,
        }
        return json.dumps(fields, sort_keys=True).encode()

    @classmethod
    def decode(cls, data: bytes, source: Path) -> ClockRecord:
        """Read the file, or say exactly why it is not a clock (it is never silently reset)."""
        try:
            fields = json.loads(data)
            if not isinstance(fields, dict):
                raise ValueError("not a JSON object")
            if "start" in fields and "version" not in fields:
                # Version 1 (serve --workers before worlds): a running simulated clock.
                return cls(
                    ClockMode.SIMULATED,
                    base=_number(fields, "start") + _number(fields, "advanced"),
                    speed=_number(fields, "speed"),
                )
            if fields.get("version") != CLOCK_FILE_VERSION:
                raise ValueError(f"unknown version {fields.get('version')!r}")
            mode = ClockMode(fields["mode"])
            anchor = fields.get("anchor")
            boot = fields.get("boot")
            return cls(
                mode,
                base=_number(fields, "base"),
                anchor=None if anchor is None else _number(fields, "anchor"),
                boot=boot if isinstance(boot, str) else None,
                speed=_number(fields, "speed"),
            )
        except (ValueError, TypeError, KeyError) as exc:
            raise SettingsError(f"{source}: not a clock file: {exc}") from None


def _number(fields: dict[str, Any], key: str) -> float:
    value = fields[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{key!r} is not a number")
    return float(value)


def read_clock_record(path: Path) -> ClockRecord | None:
    """The clock file at ``path`` (None if there is none yet)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise SettingsError(f"{path}: cannot read the clock: {exc}") from exc
    return ClockRecord.decode(data, path)


class SharedClock(SimulatedClock):
    """The simulated clock of a data directory, shared by every process that opens the file.

    Each :meth:`now` compares the file's generation with the one this process read last and
    reads the file again if it moved, so a request that starts after an advance (in any process)
    returned sees the advanced time. An advance reads the file in its turn, adds, and replaces
    it. Like every :class:`SimulatedClock`, it never goes back in this process.

    Raises:
        SettingsError: there is no clock file, or it is not one, or it keeps real time.
    """

    def __init__(self, path: Path) -> None:
        try:
            self._file = SharedFile(path, mode=CLOCK_FILE_MODE)
            data, generation = self._file.read()
        except OSError as exc:
            raise SettingsError(f"{path}: cannot read the shared clock: {exc}") from exc
        if data is None:
            raise SettingsError(f"{path}: no shared clock has been started")
        record = ClockRecord.decode(data, path)
        if record.mode is not ClockMode.SIMULATED:
            raise SettingsError(f"{path}: this world keeps real time")
        self._boot = boot_id()
        super().__init__(record.at(time.monotonic(), self._boot), speed=record.speed)
        self._record, self._generation = record, generation

    @classmethod
    def create(cls, path: Path, *, start: float, speed: float) -> SharedClock:
        """Start the directory's clock at ``start``, running at ``speed`` (replaces any other)."""
        record = ClockRecord(
            ClockMode.SIMULATED, base=start, anchor=time.monotonic(), boot=boot_id(), speed=speed
        )
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            shared = SharedFile(path, mode=CLOCK_FILE_MODE)
            with shared.turn():
                shared.replace(record.encode())
        except OSError as exc:
            raise SettingsError(f"{path}: cannot start the shared clock: {exc}") from exc
        return cls(path)

    @property
    def path(self) -> Path:
        return self._file.path

    @property
    def speed(self) -> float:
        self._refresh()
        return self._record.speed

    def now(self) -> float:
        self._refresh()
        with self._lock:
            # Float rounding must never make time step back between two reads.
            self._last = max(self._last, self._record.at(time.monotonic(), self._boot))
            return self._last

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("the simulated clock does not run backwards")
        self._update(lambda now: (now + seconds, self._record.speed, True))
        return self.now()

    def set_speed(self, speed: float) -> None:
        if speed < 0:
            raise ValueError("speed must be >= 0")
        self._update(lambda now: (now, speed, True))

    def pause(self) -> None:
        """Stop time at its current value: a server that stops resumes here when it starts."""
        self._update(lambda now: (now, self._record.speed, False))

    def _update(self, change: Any) -> None:
        with self._file.turn():
            data, _ = self._file.read()  # as on disk: another process may have moved it
            if data is None:
                raise SettingsError(f"{self.path}: the shared clock is gone")
            current = ClockRecord.decode(data, self.path)
            moment = time.monotonic()
            now = max(current.at(moment, self._boot), self._last)
            base, speed, running = change(now)
            record = ClockRecord(
                ClockMode.SIMULATED,
                base=base,
                anchor=moment if running else None,
                boot=self._boot if running else None,
                speed=speed,
            )
            if record == current:
                return  # e.g. pausing a clock that stands: nothing to write
            generation = self._file.replace(record.encode(), durable=False)
            with self._lock:
                self._record, self._generation = record, generation

    def _refresh(self) -> None:
        if self._file.generation() == self._generation:
            return
        with self._lock:
            data, generation = self._file.read()
            if generation != self._generation and data is not None:
                with suppress(SettingsError):  # written whole by _update; kept as it was if not
                    self._record = ClockRecord.decode(data, self.path)
                self._generation = generation


def open_server_clock(
    path: Path,
    *,
    mode: ClockMode | None,
    start: float | None,
    speed: float | None,
    history: float | None,
) -> SharedClock | RealTime:
    """The clock a server starting on a data directory serves by, written to ``path``.

    Args:
        mode: the kind of time asked for; None keeps the directory's (a new one: real time,
            unless a start or speed asks for simulated time).
        start: where simulated time starts (a new world: default the story's start); on a
            directory with history it may only move time forward.
        speed: simulated seconds per real second (default: the directory's, else 1).
        history: the latest time any record of the store carries (None: no records).

    Raises:
        ClockHistoryError: ``start``, or real time, lies before the directory's history.
        SettingsError: the clock file cannot be read or written.
    """
    record = read_clock_record(path)
    recorded = None if record is None else record.base
    latest = max((t for t in (recorded, history) if t is not None), default=None)
    if mode is None:
        asked_simulated = start is not None or speed is not None
        mode = record.mode if record is not None else None
        if mode is None or (asked_simulated and mode is ClockMode.REAL):
            mode = ClockMode.SIMULATED if asked_simulated else ClockMode.REAL
    if mode is ClockMode.REAL:
        if latest is not None and time.time() < latest:
            raise ClockHistoryError(_earlier("real time", time.time(), latest, path))
        try:
            SharedFile(path, mode=CLOCK_FILE_MODE).replace(
                ClockRecord(ClockMode.REAL).encode(), durable=False
            )
        except OSError as exc:
            raise SettingsError(f"{path}: cannot write the clock: {exc}") from exc
        return RealTime(
            "this vendor keeps real time: start it with a simulated clock to move time "
            "(vendor-server serve --clock simulated, on a new data directory)"
        )
    if start is None:
        start = latest if latest is not None else STORY_START
    elif latest is not None and start < latest:
        raise ClockHistoryError(_earlier("the start asked for", start, latest, path))
    if speed is None:
        speed = record.speed if record is not None and record.mode is ClockMode.SIMULATED else 1.0
    return SharedClock.create(path, start=start, speed=speed)


def _earlier(what: str, asked: float, latest: float, path: Path) -> str:
    return (
        f"{what} ({iso(asked)}) is earlier than the time this data directory already holds "
        f"({iso(latest)}): time never runs back over a world's history. Leave the start out to "
        f"resume at {iso(latest)}, or begin a new world in another data directory "
        f"(not {path.parent})"
    )
