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

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from server_stub.errors import StoreError

if TYPE_CHECKING:
    from server_stub.store.db import Store

#: most contacts one run of the lane takes before it commits (the store's MAX_BATCH)
MAX_RUN = 64

_Job = tuple[Callable[..., Any], tuple[Any, ...], Callable[[], Any] | None, "Future[Any]"]


class ContactLane:
    """A thread of one store's, running submitted contacts and answering after their commit."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._closed = False
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
        if self._closed:
            future.set_exception(StoreError(f"{self._store.path}: the store is closing"))
            return future
        self._jobs.put((work, args, check, future))
        return future

    def close(self) -> None:
        """Answer what is queued, then stop the thread."""
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
            if not future.set_running_or_notify_cancel():
                pass  # cancelled while queued (its server stopping): nobody waits for it
            elif check is None:
                ready.append(job)
            else:
                try:
                    ready.append((work, (check(), *args), None, future))
                except BaseException as exc:  # the caller's to see, as from any thread
                    future.set_exception(exc)
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
        done: list[tuple[Future[Any], bool, Any, Any]] = []
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
        for future, ok, value, batch in done:
            error = getattr(batch, "error", None)
            if ok and error is not None:
                failed = StoreError(f"{self._store.path}: the commit failed: {error}")
                failed.__cause__ = error
                ok, value = False, failed
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
        return go_on
