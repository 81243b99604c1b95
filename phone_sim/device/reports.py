"""What the phone tells the vendor about itself: the activation request its state makes."""

from __future__ import annotations

from collections.abc import Iterable

from phone_sim.protocol.messages import (
    PROTOCOL_VERSION,
    ActivationRequest,
    DeviceReport,
    SimReport,
)

from .events import SlotView
from .identity import DeviceIdentity


def activation_request(
    identity: DeviceIdentity,
    slots: Iterable[SlotView],
    certificates: list[str],
    nonce: str,
    *,
    protocol: int = PROTOCOL_VERSION,
) -> ActivationRequest:
    """The request body: the device as certified, each occupied slot as it is now, the chain.

    ``protocol`` 2 asks for a version 2 verdict (PROTOCOL.md section 13).
    """
    sims = [
        SimReport(
            slot=view.slot,
            iccid=view.sim.iccid,
            home_mcc=view.sim.home_mcc,
            home_mnc=view.sim.home_mnc,
            serving_mcc=None if view.serving is None else view.serving.mcc,
            serving_mnc=None if view.serving is None else view.serving.mnc,
            roaming=view.roaming,
        )
        for view in slots
        if view.sim is not None
    ]
    return ActivationRequest(
        protocol=protocol,
        device=DeviceReport(
            serial=identity.serial,
            imeis=list(identity.imeis),
            model=identity.model,
            market=identity.market,
            firmware=identity.firmware,
            bootloader_unlocked=identity.bootloader_unlocked,
        ),
        sims=sims,
        nonce=nonce,
        certificates=certificates,
    )
