"""One thread that runs the devices' contacts, one after another, and commits them together.

Each contact is CPU work under the interpreter lock (checks, decision, signature) and a
transaction. Run in a pool of sixteen threads, they handed the interpreter lock and the store's
lock to each other around every SQLite statement: under load about 700 µs of an activation's
server CPU was outside the interpreter, most of it the kernel switching threads
(docs/decisions/contacts-in-one-lane.md). The lane runs them on one thread instead: it takes every
contact queued, runs each in its own transaction (a savepoint of one batch), then commits the
batch once (``Store.deferred_commits``) and only then answers each: a verdict is still never sent
before it is on disk. Contacts that arrive while it works or commits make its next batch.

**Cancelled contacts.** A contact whose future was cancelled while it waited in the queue (the
server cancels the requests in flight when it stops) is left out, its work never run; once the
lane takes a contact, it can no longer be cancelled, so every answer it sets is taken.

**Checks before the batch.** A contact's checks (its certificate chain and signature) write
nothing, so the lane runs the checks of every contact it takes before it opens their batch: a
batch holds the database's write lock, and between server processes a commit's turn
(``store.lock``), from its first transaction to its commit. Run inside it, the checks kept the
other process's lane waiting for about three quarters of every run
(docs/decisions/contact-checks-outside-the-batch.md).

Imports nothing of the server but the store.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import suppress
from typing import TYPE_CHECKING, Any, TypeAlias

from server_stub.errors import StoreError

if TYPE_CHECKING:
    from server_stub.store.db import Store

#: most contacts one run of the lane takes before it commits (the store's MAX_BATCH)
MAX_RUN = 64

#: where a contact's answer goes: a thread's future (``submit``), or an event loop's (``answer``)
_Reply: TypeAlias = "Future[Any] | asyncio.Future[Any]"
_Job: TypeAlias = tuple[Callable[..., Any], tuple[Any, ...], Callable[[], Any] | None, _Reply]
#: a reply, and the answer for it: (True, result) or (False, exception)
_Answer: TypeAlias = tuple[_Reply, bool, Any]


class ContactLane:
    """A thread of one store's, running submitted contacts and answering after their commit."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._closed = False
        self._closing = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="contact-lane", daemon=True)
        self._thread.start()

    def submit(
        self, work: Callable[..., Any], *args: Any, check: Callable[[], Any] | None = None
    ) -> Future[Any]:
        """Run ``work(*args)`` on the lane; its result (or exception) once its batch is on disk.

        ``check``: work that must pass first and writes nothing, run before the batch opens;
        ``work`` then gets its result as its first argument. An exception from it is the
        contact's answer at once (it wrote nothing to wait for).
        """
        future: Future[Any] = Future()
        self._put((work, args, check, future))
        return future

    async def answer(
        self, work: Callable[..., Any], *args: Any, check: Callable[[], Any] | None = None
    ) -> Any:
        """:meth:`submit`, awaited on the running event loop: a future of the loop's own, and
        every answer of a batch handed to the loop at once
        (docs/decisions/lane-answers-on-the-loop.md)."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._put((work, args, check, future))
        return await future

    def _put(self, job: _Job) -> None:
        # Under the lock ``close`` takes: a job is queued before its stop, or refused.
        with self._closing:
            if not self._closed:
                self._jobs.put(job)
                return
        _deliver([(job[3], False, StoreError(f"{self._store.path}: the store is closing"))])

    def close(self) -> None:
        """Answer what is queued, then stop the thread."""
        with self._closing:
            self._closed = True
            self._jobs.put(None)
        self._thread.join()

    def _run(self) -> None:
        while True:
            first = self._jobs.get()
            if first is None:
                return
            if not self._run_batch(first):
                return

    def _checked(self, first: _Job) -> tuple[list[_Job], bool]:
        """``first`` and the jobs queued behind it, up to a run's worth, each past its check.

        A job whose check fails is answered at once and left out. Jobs that arrive while the
        checks run join in. False with the list: the lane was closed meanwhile.
        """
        ready: list[_Job] = []
        job: _Job | None = first
        while job is not None:
            work, args, check, future = job
            if not _taken(future):
                pass  # cancelled while queued (its server stopping): nobody waits for it
            elif check is None:
                ready.append(job)
            else:
                try:
                    ready.append((work, (check(), *args), None, future))
                except BaseException as exc:  # the caller's to see, as from any thread
                    _deliver([(future, False, exc)])
            if len(ready) >= MAX_RUN:
                break
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if job is None:
                return ready, False
        return ready, True

    def _run_batch(self, first: _Job) -> bool:
        """Check ``first`` and whatever is queued behind it, then run them in one batch, commit,
        answer; False: stop after."""
        ready, go_on = self._checked(first)
        done: list[tuple[_Reply, bool, Any, Any]] = []
        if not ready:
            return go_on
        with self._store.deferred_commits() as joined:
            for work, args, _, future in ready:
                before = len(joined)
                try:
                    outcome: tuple[bool, Any] = (True, work(*args))
                except BaseException as exc:  # the caller's to see, as from any thread
                    outcome = (False, exc)
                batch = joined[before] if len(joined) > before else None
                done.append((future, *outcome, batch))
        answers: list[_Answer] = []
        for future, ok, value, batch in done:
            error = getattr(batch, "error", None)
            if ok and error is not None:
                failed = StoreError(f"{self._store.path}: the commit failed: {error}")
                failed.__cause__ = error
                ok, value = False, failed
            answers.append((future, ok, value))
        _deliver(answers)
        return go_on


def _taken(reply: Future[Any] | asyncio.Future[Any]) -> bool:
    """The lane takes the contact: False if it was cancelled while queued. A thread's future
    can no longer be cancelled once taken; a loop's may be, and is then left unanswered."""
    if isinstance(reply, Future):
        return reply.set_running_or_notify_cancel()
    return not reply.cancelled()


def _deliver(answers: list[_Answer]) -> None:
    """Each answer to its future: a thread's at once, each event loop's in one call on it."""
    loops: dict[asyncio.AbstractEventLoop, list[_Answer]] = {}
    for reply, ok, value in answers:
        if not isinstance(reply, Future):
            loops.setdefault(reply.get_loop(), []).append((reply, ok, value))
        elif ok:
            reply.set_result(value)
        else:
            reply.set_exception(value)
    for loop, theirs in loops.items():
        with suppress(RuntimeError):  # its loop has closed: nobody waits any more
            loop.call_soon_threadsafe(_settle, theirs)


def _settle(answers: list[_Answer]) -> None:
    """On the loop's thread: each answer to its future, unless it was cancelled meanwhile."""
    for reply, ok, value in answers:
        if reply.done():
            continue
        if ok:
            reply.set_result(value)
        elif isinstance(value, StopIteration):
            # A loop's future refuses StopIteration (TypeError), which would leave the answers
            # after it unset: as a task does with one, it becomes a RuntimeError.
            error = RuntimeError(f"the contact raised StopIteration: {value}")
            error.__cause__ = value
            reply.set_exception(error)
        else:
            reply.set_exception(value)
