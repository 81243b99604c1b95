"""The state several server processes share through the data directory (``serve --workers N``).

Two objects on one data directory stand for two processes here: each keeps its own copy, as a
process does, and sees the other's change only through the files. The real processes are in
``tests/functional/test_serve_workers.py``.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest

from phone_sim.protocol.identity import Factory
from server_stub.admin.ops import Operator
from server_stub.admin.policy import replace_policy
from server_stub.api.app import open_context
from server_stub.datadir.clock import SharedClock
from server_stub.datadir.settings import ServerSettings
from server_stub.datadir.shared import SharedFile
from server_stub.engine.context import ServerContext
from server_stub.errors import PolicyVersionConflict
from server_stub.store.db import Store
from tests.support.policies import DAY, delay, policy_text
from tests.support.signed_client import SEPT_2021

OPERATOR = Operator("admin@127.0.0.1")


def test_a_replacement_in_one_process_moves_the_generation_every_process_reads(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state.json"
    first, second = SharedFile(path, mode=0o644), SharedFile(path, mode=0o644)
    assert second.read() == (None, 0)
    with first.turn():
        assert first.replace(b"one") == 1
    assert second.generation() == 1 and second.read() == (b"one", 1)
    with second.turn():
        assert second.replace(b"two") == 2  # counted on from what is on disk
    assert first.read() == (b"two", 2)
    assert path.stat().st_mode & 0o777 == 0o644
    # A process started later finds the count where it was.
    assert SharedFile(path, mode=0o644).generation() == 2


def test_turns_are_taken_one_at_a_time_by_threads_and_by_processes(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    files = [SharedFile(path, mode=0o644) for _ in range(2)]  # two processes' views
    inside = 0
    most = 0
    lock = threading.Lock()

    def work(shared: SharedFile) -> None:
        nonlocal inside, most
        for _ in range(20):
            with shared.turn():
                with lock:
                    inside += 1
                    most = max(most, inside)
                shared.replace(b"x")
                with lock:
                    inside -= 1

    threads = [threading.Thread(target=work, args=(files[i % 2],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most == 1
    assert files[0].generation() == 80  # no replacement lost its count


def test_an_advance_through_one_process_is_seen_by_the_other_at_its_next_read(
    tmp_path: Path,
) -> None:
    path = tmp_path / "clock.json"
    first = SharedClock.create(path, start=SEPT_2021, speed=0)
    second = SharedClock(path)
    assert first.now() == second.now() == SEPT_2021
    first.advance(3 * DAY)
    assert second.now() == SEPT_2021 + 3 * DAY
    assert second.advance(DAY) == SEPT_2021 + 4 * DAY  # from the file, not its own copy
    assert first.now() == SEPT_2021 + 4 * DAY
    assert SharedClock(path).now() == SEPT_2021 + 4 * DAY  # a process started later
    with pytest.raises(ValueError, match="backwards"):
        first.advance(-1)


def test_running_clocks_agree_and_never_go_back(tmp_path: Path) -> None:
    path = tmp_path / "clock.json"
    first = SharedClock.create(path, start=SEPT_2021, speed=3600)
    second = SharedClock(path)
    assert second.speed == 3600
    readings = []
    for i in range(200):
        if i % 50 == 49:
            (first if i % 100 == 49 else second).advance(DAY)
        readings.append((first if i % 2 else second).now())
    assert readings == sorted(readings)
    assert readings[-1] - readings[0] >= 3 * DAY
    # Both compute one time: anchored to the same instant of the machine's monotonic clock.
    assert abs(first.now() - second.now()) < 3600 * 0.05
    second.set_speed(0)
    assert first.speed == 0
    frozen = first.now()
    assert second.now() >= frozen and first.now() == frozen


def _contexts(tmp_path: Path, count: int) -> list[ServerContext]:
    """``count`` servers' contexts on one data directory, as ``serve --workers`` makes them."""
    Factory.open(tmp_path / "factory")
    settings = ServerSettings(data_dir=tmp_path / "vendor", port=0, shared=True)
    contexts = []
    for _ in range(count):
        contexts.append(open_context(settings, store=Store(settings.db_path)))
    return contexts


def test_a_policy_installed_through_one_process_decides_in_every_other(tmp_path: Path) -> None:
    first, second = _contexts(tmp_path, 2)
    try:
        assert second.policy.version == "2021-09-sanctions-2"  # packaged: nothing installed
        text = policy_text(delay(0), version="shared-1")
        replaced = replace_policy(first, text, OPERATOR)
        assert replaced.previous_version == "2021-09-sanctions-2"
        assert second.policy.version == "shared-1"
        assert second.policy.enforcement.delay == 0
        assert second.policy_in_force.text == text
        # The version check is against the policy on disk: the second process refuses a
        # different text under the version the first installed.
        with pytest.raises(PolicyVersionConflict):
            replace_policy(second, policy_text(delay(1), version="shared-1"), OPERATOR)
        replace_policy(second, text, OPERATOR)  # the same text again is accepted
        replace_policy(second, policy_text(delay(2), version="shared-2"), OPERATOR)
        assert first.policy.version == "shared-2"
        assert first.store is not second.store
        assert [e.policy_version for e in first.store.audit(limit=10)] == [
            "shared-1",
            "shared-1",
            "shared-2",
        ]
    finally:
        for context in (first, second):
            context.store.close()


def test_a_policy_that_does_not_parse_is_not_installed_from_the_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (context,) = _contexts(tmp_path, 1)
    try:
        replace_policy(context, policy_text(version="shared-1"), OPERATOR)
        path = context.settings.installed_policy_path
        # Only the admin API replaces it, and only with a valid policy; were anything else to
        # (here: a writer that did not validate), the policy in force stays.
        path.write_text('version = "typo"\n')
        assert context.policy.version == "shared-1"  # by hand: not seen (as with one process)
        shared = SharedFile(path, mode=0o644)
        with shared.turn():
            shared.replace(b'version = "typo"\n')
        with caplog.at_level(logging.WARNING):
            assert context.policy.version == "shared-1"
            assert context.policy.version == "shared-1"
        assert len(caplog.records) == 1  # said once for this generation of the file
        assert "not installed, the policy in force stays" in caplog.text
    finally:
        context.store.close()


def test_pausing_a_clock_that_stands_writes_nothing(tmp_path: Path) -> None:
    clock = SharedClock.create(tmp_path / "clock.json", start=1_000.0, speed=0)
    clock.pause()
    written = (tmp_path / "clock.json").stat().st_mtime_ns, clock._file.generation()
    clock.pause()  # a world's server and the world itself both pause it when they close
    assert ((tmp_path / "clock.json").stat().st_mtime_ns, clock._file.generation()) == written
    clock.advance(60)
    assert clock._file.generation() == written[1] + 1
