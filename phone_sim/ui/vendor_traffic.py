"""The app's vendor round trips: thread workers that send, handlers that hand answers back.

A mixin of :class:`phone_sim.ui.app.PhoneApp`, kept apart by concern. The phone builds a
request (activation, check-in, account, time) on the UI thread; a thread worker sends it with
the plain vendor client and posts the exchange back as a message (``VendorAnswered``,
``TimeAnswered``); the handler gives it to the phone on the UI thread. A worker never touches
widgets. A worker that fails for any reason the client did not turn into an exchange becomes a
failed exchange, so the phone shows a clear error instead of staying "checking".
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual.worker import Worker, WorkerState

from phone_sim.device.errors import PhoneError
from phone_sim.device.events import ActivationAttempt, TimeAttempt
from phone_sim.device.exchange import Exchange
from phone_sim.device.state import DeviceState
from phone_sim.protocol.contact import ContactKind
from phone_sim.protocol.errors import StaleMessage
from phone_sim.ui.messages import TimeAnswered, VendorAnswered
from phone_sim.ui.parts import AppParts

if TYPE_CHECKING:
    from phone_sim.world.phones import WorldPhone


class VendorTraffic(AppParts):
    """Vendor round trips in thread workers; see the module docstring."""

    def request_activation(self) -> None:
        """Ask the vendor now: activation from setup; a check-in when activated or locked."""
        phone = self.phone
        if self._records(self.current):
            self.recorder.record("activate" if phone.state is DeviceState.SETUP else "check_in")
        if phone.state in (DeviceState.ACTIVATED, DeviceState.LOCKED):
            phone.retry()
            self.tick()
            return
        self._start(self.current, phone.begin_activation)

    def _start(self, world_phone: WorldPhone, begin: Callable[[], ActivationAttempt]) -> None:
        try:
            attempt = begin()
        except PhoneError as exc:
            self.notify(str(exc), severity="warning")
            return
        self.sync_screen()
        self.run_worker(
            partial(self._send, world_phone, attempt),
            thread=True,
            exclusive=True,
            exit_on_error=False,
            group=f"vendor:{world_phone.name}",
        )

    def _ask_time(self, world_phone: WorldPhone) -> None:
        attempt = world_phone.phone.begin_time_sync()
        self.run_worker(
            partial(self._send_time, world_phone, attempt),
            thread=True,
            exclusive=True,
            exit_on_error=False,
            group=f"time:{world_phone.name}",
        )

    def _send(self, world_phone: WorldPhone, attempt: ActivationAttempt) -> None:
        # Runs in a thread: network only, no widgets; the result goes back as a message.
        exchange = world_phone.client.send(attempt)
        self.post_message(VendorAnswered(world_phone.name, attempt, exchange))

    def _send_time(self, world_phone: WorldPhone, attempt: TimeAttempt) -> None:
        exchange = world_phone.client.ask_time(attempt)
        self.post_message(TimeAnswered(world_phone.name, attempt, exchange))

    def on_vendor_answered(self, message: VendorAnswered) -> None:
        world_phone = self.world.phones[message.name]
        phone = world_phone.phone
        outcome = phone.complete_activation(message.attempt, message.exchange)
        if not outcome.accepted and message.name == self.current_name:
            stale = message.exchange.server_code == StaleMessage.code
            if stale and phone.time_sync_due() is not None:
                # Called stale: the vendor's time moved elsewhere (another terminal's `a`). The
                # phone takes its signed time next, and a check-in goes again by itself.
                again = phone.state in (DeviceState.ACTIVATED, DeviceState.LOCKED)
                self.notify(
                    "The vendor's clock has moved on: setting this phone's clock from its "
                    "signed time" + (", then asking again." if again else "."),
                    timeout=6,
                )
            else:
                self.notify(phone.last_error or outcome.detail, severity="error", timeout=6)
        if (
            not outcome.accepted
            and phone.state is DeviceState.SETUP
            and phone.request_protocol < message.attempt.request.protocol
        ):
            # A version 1 vendor refused version 2: setup asks again, in version 1.
            self._start(world_phone, phone.begin_activation)
        self.sync_screen()

    def on_time_answered(self, message: TimeAnswered) -> None:
        phone = self.world.phones[message.name].phone
        outcome = phone.complete_time_sync(message.attempt, message.exchange)
        if not outcome.accepted:
            self.notify(
                f"{message.name}: the vendor's time was refused: {outcome.detail}",
                severity="error",
                timeout=6,
            )
        self.sync_screen()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # The client turns I/O failures into exchanges; this catches anything else, so a bug
        # shows as a clear on-screen error instead of a traceback or a phone stuck "checking".
        group = event.worker.group
        if event.state is not WorkerState.ERROR or ":" not in group:
            return
        kind, _, name = group.partition(":")
        world_phone = self.world.phones.get(name)
        if world_phone is None:
            return
        error = event.worker.error
        detail = f"{type(error).__name__}: {error}"
        phone = world_phone.phone
        if kind == "vendor" and phone.pending is not None:
            attempt = phone.pending
            failed = Exchange(
                kind=attempt.kind,
                url=world_phone.client.base_url,
                request_headers={},
                request_body=attempt.request.encode(),
                sent_at=attempt.started_at,
                error_code="client_error",
                error=detail,
            )
            self.post_message(VendorAnswered(name, attempt, failed))
        elif kind == "time" and phone.time_pending is not None:
            time_attempt = phone.time_pending
            failed = Exchange(
                kind=ContactKind.TIME,
                url=world_phone.client.base_url,
                request_headers={},
                request_body=b"",
                sent_at=time_attempt.started_at,
                error_code="client_error",
                error=detail,
            )
            self.post_message(TimeAnswered(name, time_attempt, failed))
