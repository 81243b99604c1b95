"""``atomic_write_chunks``: a file written as its chunks come, replacing the old one only whole."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from phone_sim.protocol.files import atomic_write, atomic_write_chunks


def test_the_chunks_make_the_file_in_order_with_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "cache.jsonl"
    atomic_write_chunks(path, (f"{i}\n".encode() for i in range(1000)), mode=0o600)
    assert path.read_bytes() == b"".join(f"{i}\n".encode() for i in range(1000))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_chunks_that_fail_half_way_leave_the_old_file_and_no_temp_file(tmp_path: Path) -> None:
    path = tmp_path / "cache.jsonl"
    atomic_write(path, b"old\n")

    def chunks() -> Iterator[bytes]:
        yield b"new 1\n"
        raise RuntimeError("the pool broke")

    with pytest.raises(RuntimeError, match="the pool broke"):
        atomic_write_chunks(path, chunks())
    assert path.read_bytes() == b"old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache.jsonl"]
