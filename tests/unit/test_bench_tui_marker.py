"""The TUI benchmark's watch for the boot screen, over reads of any size."""

from __future__ import annotations

from bench.tui import MARKER, MarkerWatch


def test_a_marker_early_in_a_long_read_is_seen() -> None:
    # One read carried the boot screen and the wizard after it: 1 in 30 launches was missed
    # when only the read's last 4 KiB were searched.
    assert MarkerWatch(MARKER).feed(b"\x1b[1;1H" + MARKER + b"\x1b[0m" * 5000)


def test_a_marker_split_between_reads_is_seen() -> None:
    watch = MarkerWatch(MARKER)
    assert not watch.feed(b"x" * 100 + MARKER[:4])
    assert watch.feed(MARKER[4:] + b"y" * 100)


def test_no_marker_is_no_marker() -> None:
    watch = MarkerWatch(MARKER)
    assert not any(watch.feed(b"Boot" + b"loader"[:i] + b" ") for i in range(6))
    assert watch.last.endswith(b"Bootloade ")
