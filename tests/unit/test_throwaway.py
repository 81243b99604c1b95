"""Throwaway directories: a test's world is set up without fsyncs, its contacts still durable.

``phone_sim.protocol.files.throwaway`` (docs/decisions/throwaway-worlds-skip-fsync.md).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from phone_sim.protocol.files import atomic_write, is_throwaway, throwaway
from server_stub.store.db import Store

FULL = 2  # PRAGMA synchronous


@pytest.fixture
def fsyncs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = os.fsync

    def counted(fd: int) -> None:
        calls.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fsync", counted)
    return calls


def test_a_write_in_a_throwaway_directory_skips_the_fsyncs(
    tmp_path: Path, fsyncs: list[int]
) -> None:
    kept, thrown = tmp_path / "kept", tmp_path / "thrown"
    atomic_write(kept / "a.json", b"1")
    assert len(fsyncs) == 2  # the file and its directory
    with throwaway(thrown):
        atomic_write(thrown / "deep" / "b.json", b"2")
        atomic_write(kept / "c.json", b"3")  # not under the throwaway directory
    assert len(fsyncs) == 4
    assert (thrown / "deep" / "b.json").read_bytes() == b"2"  # written all the same
    atomic_write(thrown / "d.json", b"4")  # the block is over: durable again
    assert len(fsyncs) == 6


def test_throwaway_blocks_nest_and_a_sibling_with_a_longer_name_is_not_inside(
    tmp_path: Path,
) -> None:
    root = tmp_path / "world"
    with throwaway(root):
        with throwaway(root):
            assert is_throwaway(root / "x")
        assert is_throwaway(root / "x")  # the outer block still holds it
        assert not is_throwaway(tmp_path / "world2" / "x")
    assert not is_throwaway(root / "x")


def test_a_throwaway_store_still_commits_contacts_durably(tmp_path: Path) -> None:
    with throwaway(tmp_path), Store(tmp_path / "vendor.db") as store:
        assert store.pragma("synchronous") == FULL
        assert store.pragma("journal_mode") == "wal"
        with store.transaction() as tx:
            tx.reserve_nonce("n-1", at=1, expires_at=2)
    with Store(tmp_path / "vendor.db") as again:  # set up once, opened again: all there
        assert again.nonce_seen("n-1", now=1)
