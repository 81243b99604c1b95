"""Records what is played in the TUI as scenario steps, and writes them as a scenario file.

The app calls :meth:`Recorder.record` where a user action starts (a key, a button, the SIM
tray, the vendor console). Simulated time that passed between actions on its own (real time,
or a faster clock) is recorded as an ``advance`` step, so a replay lets the same check-ins
happen. The file ends with an ``expect`` step holding the state and screen reached (a comment
instead, when the recording began on a phone already set up), so a replay
proves it arrives at the same end.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from phone_sim.device.identity import DeviceIdentity
from phone_sim.protocol.clock import Clock
from phone_sim.protocol.files import atomic_write

Value = str | int | float | bool
#: what a recording writes for a password: never the password itself (docs/SCENARIOS.md)
WITHHELD = "********"
#: time that passes on its own is recorded once it amounts to this many simulated seconds
MIN_GAP = 60.0


def _toml_value(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string


@dataclass
class Recorder:
    clock: Clock
    identity: DeviceIdentity
    #: whether the phone was new when recording began (a replay starts from a new phone)
    fresh: bool = True
    steps: list[tuple[str, dict[str, Value]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.started_at = self.clock.now()
        self._accounted = self.started_at

    def record(self, kind: str, **args: Value) -> None:
        """Record one action, preceded by the time that passed since the last one."""
        gap = self.clock.now() - self._accounted
        if gap >= MIN_GAP:
            self.steps.append(("advance", {"seconds": int(gap)}))
        self.steps.append((kind, dict(args)))
        self._accounted = self.clock.now()

    def advanced(self, seconds: float) -> None:
        """Time the user fast-forwarded: recorded as asked, not as a gap."""
        self.record("advance", seconds=int(seconds))
        self._accounted += seconds

    def to_toml(self, *, state: str, screen: str) -> str:
        ident = self.identity
        bootloader = "unlocked" if ident.bootloader_unlocked else "locked"
        lines = [
            f"description = {_toml_value(f'Recorded in the TUI: {ident.model} ({ident.market})')}",
            f"start = {int(self.started_at)}",
            "seed = 0",
        ]
        if not self.fresh:
            lines.append("# The recording began on a phone that was already set up; the replay")
            lines.append("# starts from a new one, so its end state may differ: the end this")
            lines.append("# phone reached is kept at the end as a comment, not as a step.")
        lines += ["", "[device]", f"model = {_toml_value(ident.model)}"]
        lines += [
            f"market = {_toml_value(ident.market)}",
            f"bootloader = {_toml_value(bootloader)}",
        ]
        if ident.custom_rom:
            lines.append("custom_rom = true")
        for kind, args in self.steps:
            lines += ["", "[[steps]]", f"do = {_toml_value(kind)}"]
            lines += [f"{key} = {_toml_value(value)}" for key, value in args.items()]
            if args.get("password") == WITHHELD:
                lines[-1] += "  # not recorded: type the password here to replay"
        end = [
            "[[steps]]",
            'do = "expect"',
            f"expect = {{ state = {_toml_value(state)}, screen = {_toml_value(screen)} }}",
        ]
        if not self.fresh:  # a replay from a new phone need not reach it: no failing step
            end = ["# The end this phone reached:", *(f"# {line}" for line in end)]
        lines += ["", *end]
        return "\n".join(lines) + "\n"

    def save(self, directory: Path, *, state: str, screen: str) -> Path:
        """Write the next free ``recording-N.toml`` in ``directory``; return its path."""
        directory.mkdir(parents=True, exist_ok=True)
        n = 1
        while (directory / f"recording-{n}.toml").exists():
            n += 1
        path = directory / f"recording-{n}.toml"
        atomic_write(path, self.to_toml(state=state, screen=screen).encode(), mode=0o644)
        return path
