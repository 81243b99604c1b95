"""The contact lane: one thread runs the contacts, commits them together, answers after.

No answer before its commit (another connection already sees what it wrote); contacts queued
together share commits (fewer commits than contacts); a contact that fails takes only its own
writes and its own answer with it; a failed commit fails every contact it carried and none is
visible; closing answers what was queued and ends the thread. A contact cancelled while queued
(a stopping server cancels the requests in flight) is left out and the lane goes on; one the
lane has taken can no longer be cancelled. Answers awaited on an event loop (``answer``, as the
contact routes await them) reach the loop's thread after their commit, refusals as errors, and an
awaiting request cancelled while its contact is queued leaves it out; one contact raising
StopIteration takes no other answer of its batch with it. A closed store starts no new lane.
A contact's checks run before its run's batch takes the write lock (another server process may
commit meanwhile), and one that fails answers at once, writing nothing.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import sqlite3
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest

from phone_sim.protocol.errors import ReplayedNonce
from server_stub.errors import StoreError
from server_stub.store import lane as lane_module
from server_stub.store.db import Store
from tests.support.store_spy import spy_on_writer

AT = 1630497600


def _committed_nonces(path: Path) -> set[str]:
    with sqlite3.connect(path) as db:
        return {row[0] for row in db.execute("SELECT nonce FROM nonces")}


def _hold(started: threading.Event, gate: threading.Event) -> bool:
    """A contact that keeps the lane busy until ``gate`` opens; ``started`` once it does."""
    started.set()
    return gate.wait(5)


def _reserve(store: Store, nonce: str) -> str:
    with store.transaction() as tx:
        tx.reserve_nonce(nonce, at=AT, expires_at=AT + 3600)
    return nonce


def test_each_answer_comes_after_its_commit_and_queued_contacts_share_commits(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path / "vendor.db")
    writer = spy_on_writer(store)
    seen: list[bool] = []
    gate = threading.Event()
    # The first contact waits, so the others queue behind it and make one run of the lane.
    first = store.lane.submit(lambda: (gate.wait(5), _reserve(store, "nonce-first-aaaaaaaa"))[1])
    futures = [first] + [
        store.lane.submit(_reserve, store, f"nonce-{i:03d}-aaaaaaaa") for i in range(40)
    ]
    for future in futures:
        future.add_done_callback(lambda f: seen.append(f.result() in _committed_nonces(store.path)))
    gate.set()
    results = [f.result(timeout=10) for f in futures]
    store.close()
    assert len(results) == 41 and len(seen) == 41 and all(seen)
    assert writer.commits < 5, writer.commits  # 41 contacts, not 41 commits


def test_a_failing_contact_fails_alone(tmp_path: Path) -> None:
    store = Store(tmp_path / "vendor.db")
    gate = threading.Event()
    first = store.lane.submit(lambda: (gate.wait(5), _reserve(store, "nonce-one-aaaaaaaa"))[1])
    replay = store.lane.submit(_reserve, store, "nonce-one-aaaaaaaa")  # the same nonce again

    def boom() -> None:
        with store.transaction() as tx:
            tx.reserve_nonce("nonce-boom-aaaaaaaa", at=AT, expires_at=AT + 3600)
            raise RuntimeError("the decision failed")

    failing = store.lane.submit(boom)
    last = store.lane.submit(_reserve, store, "nonce-two-aaaaaaaa")
    gate.set()
    assert first.result(timeout=10) == "nonce-one-aaaaaaaa"
    with pytest.raises(ReplayedNonce):
        replay.result(timeout=10)
    with pytest.raises(RuntimeError, match="the decision failed"):
        failing.result(timeout=10)
    assert last.result(timeout=10) == "nonce-two-aaaaaaaa"
    store.close()
    assert _committed_nonces(tmp_path / "vendor.db") == {
        "nonce-one-aaaaaaaa",
        "nonce-two-aaaaaaaa",
    }


def test_a_failed_commit_fails_every_contact_it_carried(tmp_path: Path) -> None:
    store = Store(tmp_path / "vendor.db")
    spy_on_writer(store, fail=True)
    futures = [store.lane.submit(_reserve, store, f"nonce-{i}-aaaaaaaa") for i in range(5)]
    for future in futures:
        with pytest.raises(StoreError, match="the commit failed"):
            future.result(timeout=10)
    assert _committed_nonces(tmp_path / "vendor.db") == set()
    store.close()


def test_closing_answers_what_was_queued_and_ends_the_thread(tmp_path: Path) -> None:
    store = Store(tmp_path / "vendor.db")
    lane = store.lane
    gate = threading.Event()
    first = lane.submit(lambda: (gate.wait(5), _reserve(store, "nonce-a-aaaaaaaa"))[1])
    queued = lane.submit(_reserve, store, "nonce-b-aaaaaaaa")
    threading.Timer(0.05, gate.set).start()
    store.close()
    assert first.result(timeout=1) == "nonce-a-aaaaaaaa"
    assert queued.result(timeout=1) == "nonce-b-aaaaaaaa"
    assert not lane._thread.is_alive()
    late: Future[Any] = lane.submit(_reserve, store, "nonce-c-aaaaaaaa")
    with pytest.raises(StoreError, match="closing"):
        late.result(timeout=1)


def test_a_contact_cancelled_while_queued_is_left_out_and_the_lane_goes_on(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path / "vendor.db")
    lane = store.lane
    started, gate = threading.Event(), threading.Event()
    checked: list[str] = []
    first = lane.submit(lambda: (_hold(started, gate), _reserve(store, "nonce-a-aaaaaaaa"))[1])
    assert started.wait(5)  # the lane is in the first's work: the next ones wait in its queue
    cancelled = lane.submit(
        lambda _: _reserve(store, "nonce-b-aaaaaaaa"), check=lambda: checked.append("b")
    )
    after = lane.submit(_reserve, store, "nonce-c-aaaaaaaa")
    # What asyncio.wrap_future does to the lane's future when the server cancels its request.
    assert cancelled.cancel()
    gate.set()
    assert first.result(timeout=5) == "nonce-a-aaaaaaaa"
    assert after.result(timeout=5) == "nonce-c-aaaaaaaa"
    later = lane.submit(_reserve, store, "nonce-d-aaaaaaaa")
    assert later.result(timeout=5) == "nonce-d-aaaaaaaa"  # the lane still answers
    assert lane._thread.is_alive()
    store.close()
    # Neither its check nor its work ran: nothing of it was written.
    assert checked == []
    assert _committed_nonces(store.path) == {f"nonce-{x}-aaaaaaaa" for x in "acd"}


def test_a_contact_the_lane_has_taken_can_no_longer_be_cancelled(tmp_path: Path) -> None:
    store = Store(tmp_path / "vendor.db")
    started, gate = threading.Event(), threading.Event()

    def work() -> str:
        started.set()
        gate.wait(5)
        return _reserve(store, "nonce-a-aaaaaaaa")

    taken = store.lane.submit(work)
    assert started.wait(5)
    assert not taken.cancel()
    gate.set()
    assert taken.result(timeout=5) == "nonce-a-aaaaaaaa"
    assert store.lane.submit(lambda: "next").result(timeout=5) == "next"
    store.close()


def _commit_elsewhere(path: Path, nonce: str) -> str:
    """What another server process does: take the commit's turn without waiting, and commit."""
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # BlockingIOError if a batch holds it
        with sqlite3.connect(path, timeout=0) as db:  # "database is locked" if a batch is open
            db.execute("INSERT INTO nonces (nonce, expires_at) VALUES (?, ?)", (nonce, AT + 9))
        return nonce
    finally:
        os.close(fd)


def test_checks_run_before_the_batch_takes_the_write_lock(tmp_path: Path) -> None:
    path = tmp_path / "vendor.db"
    store = Store(path)
    gate = threading.Event()
    blocker = store.lane.submit(gate.wait, 5)  # holds the lane: the next two make one run
    first = store.lane.submit(_reserve, store, "nonce-first-aaaaaaaa")
    # The second's check comes after the first's transaction in the queue, yet runs before it.
    second = store.lane.submit(
        lambda elsewhere: (elsewhere, _reserve(store, "nonce-second-aaaaaaaa")),
        check=lambda: _commit_elsewhere(path, "nonce-elsewhere-aaaaaaaa"),
    )
    gate.set()
    assert blocker.result(timeout=10) is True
    assert first.result(timeout=10) == "nonce-first-aaaaaaaa"
    assert second.result(timeout=10) == ("nonce-elsewhere-aaaaaaaa", "nonce-second-aaaaaaaa")
    store.close()
    assert _committed_nonces(path) == {
        "nonce-first-aaaaaaaa",
        "nonce-second-aaaaaaaa",
        "nonce-elsewhere-aaaaaaaa",
    }


def test_a_failing_check_answers_at_once_and_writes_nothing(tmp_path: Path) -> None:
    store = Store(tmp_path / "vendor.db")
    gate = threading.Event()
    ran: list[str] = []
    blocker = store.lane.submit(gate.wait, 5)

    def refuse() -> None:
        raise PermissionError("the signature does not verify")

    refused = store.lane.submit(lambda _: ran.append("work"), check=refuse)
    kept = store.lane.submit(_reserve, store, "nonce-kept-aaaaaaaa")
    gate.set()
    blocker.result(timeout=10)
    with pytest.raises(PermissionError, match="does not verify"):
        refused.result(timeout=10)
    assert kept.result(timeout=10) == "nonce-kept-aaaaaaaa"
    store.close()
    assert ran == []  # its work never ran
    assert _committed_nonces(tmp_path / "vendor.db") == {"nonce-kept-aaaaaaaa"}


# --- answers awaited on an event loop (ContactLane.answer, as the contact routes await them) ---


def test_answers_on_the_loop_come_after_their_commit_on_its_thread_refusals_as_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(tmp_path / "vendor.db")
    gate = threading.Event()
    blocker = store.lane.submit(gate.wait, 5)  # the next ones queue behind it: one run
    settled_on: list[int] = []
    settle = lane_module._settle

    def recorded(answers: list[Any]) -> None:
        settled_on.append(threading.get_ident())
        settle(answers)

    monkeypatch.setattr(lane_module, "_settle", recorded)

    def refuse() -> None:
        raise PermissionError("the signature does not verify")

    async def contacts() -> list[object]:
        loop_thread = threading.get_ident()
        seen: list[bool] = []

        async def one(nonce: str) -> str:
            result: str = await store.lane.answer(_reserve, store, nonce)
            seen.append(result in _committed_nonces(store.path))  # only once it is committed
            return result

        tasks = [asyncio.ensure_future(one(f"nonce-{i:02d}-aaaaaaaa")) for i in range(20)]
        refused = asyncio.ensure_future(store.lane.answer(lambda _: "never", check=refuse))
        await asyncio.sleep(0.05)  # every contact queued behind the blocker
        gate.set()
        outcomes = await asyncio.gather(*tasks, refused, return_exceptions=True)
        assert seen == [True] * 20
        # The answers were set on the loop's own thread, a batch's in one call or a few.
        assert settled_on and set(settled_on) == {loop_thread}
        assert len(settled_on) < 10
        return outcomes

    outcomes = asyncio.run(contacts())
    assert blocker.result(timeout=5) is True
    store.close()
    assert outcomes[:20] == [f"nonce-{i:02d}-aaaaaaaa" for i in range(20)]
    assert isinstance(outcomes[20], PermissionError)


def test_an_answer_awaited_then_cancelled_is_left_out_and_the_lane_goes_on(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path / "vendor.db")
    started, gate = threading.Event(), threading.Event()
    ran: list[str] = []
    blocker = store.lane.submit(_hold, started, gate)
    assert started.wait(5)  # the lane is busy: what comes next waits in its queue

    async def contacts() -> str:
        waiting = asyncio.ensure_future(store.lane.answer(lambda: ran.append("cancelled")))
        await asyncio.sleep(0.01)
        waiting.cancel()  # what a stopping server does to the requests in flight
        await asyncio.sleep(0.01)
        gate.set()
        after: str = await store.lane.answer(_reserve, store, "nonce-after-aaaaaaaa")
        return after

    assert asyncio.run(contacts()) == "nonce-after-aaaaaaaa"
    assert blocker.result(timeout=5) is True
    assert store.lane._thread.is_alive()
    store.close()
    assert ran == []


def test_a_closing_store_refuses_an_awaited_contact(tmp_path: Path) -> None:
    store = Store(tmp_path / "vendor.db")
    lane = store.lane
    store.close()

    async def late() -> object:
        return await lane.answer(_reserve, store, "nonce-late-aaaaaaaa")

    with pytest.raises(StoreError, match="closing"):
        asyncio.run(late())


def test_a_contact_raising_stopiteration_takes_no_other_answer_with_it(tmp_path: Path) -> None:
    store = Store(tmp_path / "vendor.db")
    started, gate = threading.Event(), threading.Event()
    blocker = store.lane.submit(_hold, started, gate)
    assert started.wait(5)

    def stray_next() -> str:
        return str(next(iter([])))

    async def contacts() -> list[object]:
        stray = asyncio.ensure_future(store.lane.answer(stray_next))
        kept = asyncio.ensure_future(store.lane.answer(_reserve, store, "nonce-kept-aaaaaaaa"))
        await asyncio.sleep(0.01)  # both queued behind the blocker: one run, one delivery
        gate.set()
        return await asyncio.wait_for(asyncio.gather(stray, kept, return_exceptions=True), 5)

    stray, kept = asyncio.run(contacts())
    assert blocker.result(timeout=5) is True
    store.close()
    assert isinstance(stray, RuntimeError) and "StopIteration" in str(stray)
    assert kept == "nonce-kept-aaaaaaaa"


def test_a_closed_store_starts_no_new_lane(tmp_path: Path) -> None:
    store = Store(tmp_path / "vendor.db")
    assert store.lane.submit(lambda: "served").result(timeout=5) == "served"
    store.close()
    with pytest.raises(StoreError, match="the store is closed"):
        store.lane  # noqa: B018 -- the property is what is tested
    # Not even a store whose lane never started.
    unused = Store(tmp_path / "other.db")
    unused.close()
    with pytest.raises(StoreError, match="the store is closed"):
        unused.lane  # noqa: B018
