"""App-wide messages: small dataclasses, each naming the phone it is about."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from phone_sim.device.events import TimeAttempt
from phone_sim.device.exchange import Exchange
from phone_sim.device.phone import ActivationAttempt, PhoneEvent


@dataclass
class VendorAnswered(Message):
    """A phone's activation or check-in round trip finished (or failed) in a worker thread."""

    name: str
    attempt: ActivationAttempt
    exchange: Exchange


@dataclass
class TimeAnswered(Message):
    """A phone's request for the vendor's signed time finished (or failed) in a worker."""

    name: str
    attempt: TimeAttempt
    exchange: Exchange


@dataclass
class PhoneChanged(Message):
    """A phone reported something (state, SIM, network, verdict, call, clock)."""

    event: PhoneEvent
    name: str
