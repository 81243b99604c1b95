"""One event loop per process that serves every embedded vendor server of the process.

An :class:`~server_stub.runtime.embedded.EmbeddedVendorServer` used to run ``uvicorn.Server.run``
on a thread of its own: a new thread and event loop per server, a start that polled every 10 ms,
and a stop that cost 150 to 250 ms, because uvicorn checks for the exit flag every 0.1 s and then
sleeps 0.1 s more before it even looks at the connections. A test's world starts and stops a
server, so that was most of a short test (``docs/decisions/one-loop-for-embedded-servers.md``).

Here one daemon thread runs one event loop (uvloop when installed, as uvicorn's ``auto``), made
the first time a server starts. Each server still has its own listening socket, its own app,
its own uvicorn ``ServerState`` and connections: the host shares only the loop (and anyio's
worker threads, which belong to the loop). :class:`HostedServer` is uvicorn's server with the
two waits replaced: it sleeps until it is told to exit (waking once a second to refresh the
``Date`` header, as uvicorn does), and its shutdown closes idle connections at once and waits
for answers in flight in milliseconds, not tenths of a second.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from concurrent.futures import Future
from contextlib import suppress
from typing import Any, ClassVar, TypeVar

import uvicorn
from uvicorn.loops.auto import auto_loop_factory

__all__ = ["HostedServer", "ServerHost"]

T = TypeVar("T")
#: how often a stopping server looks again for answers still in flight
_DRAIN_POLL = 0.002
#: looks at once (one turn of the loop each) before it polls: idle connections are gone by then
_FREE_LOOKS = 2


class ServerHost:
    """The event loop on its daemon thread; :meth:`shared` is this process's one host."""

    _shared: ClassVar[ServerHost | None] = None
    _shared_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self) -> None:
        self.loop = auto_loop_factory()()
        ready = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(ready,), name="vendor-servers", daemon=True
        )
        self._thread.start()
        ready.wait()

    @classmethod
    def shared(cls) -> ServerHost:
        """This process's host, started the first time it is asked for."""
        with cls._shared_lock:
            host = cls._shared
            if host is None or not host.alive:
                host = cls._shared = cls()
            return host

    @property
    def alive(self) -> bool:
        return self._thread.is_alive() and not self.loop.is_closed()

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(ready.set)
        # Until the process ends (a daemon thread), in a task of its own rather than
        # run_forever: anyio ties its worker threads to the loop's root task, which it knows by
        # run_until_complete's callback. Under run_forever it found none and tied each thread
        # to the request that started it, so the thread ended with that request and the next
        # one started a new thread (docs/decisions/worker-threads-outlive-requests.md).
        self.loop.run_until_complete(self._root())

    @staticmethod
    async def _root() -> None:
        await asyncio.Event().wait()

    def submit(self, coroutine: Coroutine[Any, Any, T]) -> Future[T]:
        """Run ``coroutine`` on the host's loop; its result (or exception) in the future."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    def call_soon(self, callback: Any, *args: Any) -> None:
        self.loop.call_soon_threadsafe(callback, *args)


class HostedServer(uvicorn.Server):
    """uvicorn's server, for a shared loop: no polling between its start and its stop.

    ``ready`` is set once it listens (or failed to); :meth:`exit` asks it to stop from any
    thread. ``state`` becomes the app's lifespan state, which uvicorn copies into every
    request's scope: how one app serves each server's own world.
    """

    def __init__(
        self, config: uvicorn.Config, host: ServerHost, *, state: dict[str, Any] | None = None
    ) -> None:
        super().__init__(config)
        self.host = host
        #: given to the app as its lifespan state, so to every request (``request.state``)
        self.state = dict(state or {})
        self.ready = threading.Event()
        self.startup_error: BaseException | None = None
        self._exit: asyncio.Event | None = None

    async def serve_hosted(self, sockets: list[Any]) -> None:
        """``serve`` for the host: a failed start is an exception here, never a SystemExit
        that would end the host's loop for every other server."""
        self._exit = asyncio.Event()
        try:
            await self._serve(sockets)
        except SystemExit as exc:  # uvicorn's answer to a failed lifespan start-up
            self.startup_error = RuntimeError(f"the server did not start (exit {exc.code})")
        except BaseException as exc:
            self.startup_error = exc
            raise
        finally:
            self.ready.set()

    async def startup(self, sockets: list[Any] | None = None) -> None:
        self.lifespan.state.update(self.state)
        try:
            await super().startup(sockets=sockets)
        finally:
            self.ready.set()

    def exit(self, *, force: bool = False) -> None:
        """Ask the server to stop (from any thread); ``force``: cancel answers in flight."""
        self.should_exit = True
        self.force_exit = self.force_exit or force
        if self._exit is not None:
            with suppress(RuntimeError):  # the loop is closed: nothing left to wake
                self.host.call_soon(self._exit.set)

    async def main_loop(self) -> None:
        # uvicorn polls should_exit every 0.1 s; here the server sleeps until exit() wakes it,
        # and once a second refreshes the Date header (on_tick does when counter % 10 == 0).
        assert self._exit is not None
        counter = 0
        while not await self.on_tick(counter):
            counter += 10
            with suppress(TimeoutError):
                await asyncio.wait_for(self._exit.wait(), 1.0)

    async def shutdown(self, sockets: list[Any] | None = None) -> None:
        # uvicorn's sleeps 0.1 s after asking connections to close, then polls every 0.1 s.
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()  # an idle keep-alive connection closes now
        timeout = self.config.timeout_graceful_shutdown
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (timeout if timeout is not None else 3600)
        state = self.server_state
        looks = 0
        while (state.connections or state.tasks) and not self.force_exit:
            if loop.time() >= deadline:
                break
            # An idle connection closed above is gone after one turn of the loop (its
            # connection_lost is scheduled already): the first looks wait for nothing else.
            # A test's world closes with its phone's idle connection open, so its stop took
            # the whole 2 ms of the first poll (docs/decisions/cubacel-story-accounting.md).
            await asyncio.sleep(0 if looks < _FREE_LOOKS else _DRAIN_POLL)
            looks += 1
        for task in list(state.tasks):
            task.cancel(msg="the server stopped")
        for connection in list(state.connections):
            transport = getattr(connection, "transport", None)
            if transport is not None:
                transport.abort()
        for server in self.servers:
            await server.wait_closed()
        if not self.force_exit:
            await self.lifespan.shutdown()
