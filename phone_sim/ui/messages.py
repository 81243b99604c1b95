"""App-wide messages."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from phone_sim.device.exchange import Exchange
from phone_sim.device.phone import ActivationAttempt, PhoneEvent


@dataclass
class VendorAnswered(Message):
    """A vendor round trip finished (successfully or not) in a worker thread."""

    attempt: ActivationAttempt
    exchange: Exchange


@dataclass
class PhoneChanged(Message):
    """The device model reported something (state, SIM, network, verdict, call)."""

    event: PhoneEvent
