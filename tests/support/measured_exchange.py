"""One exchange of the real phone client with a vendor, measured in a process of its own.

``python -m tests.support.measured_exchange URL TIMEOUT`` builds a phone (its own factory and
vendor key, in a temporary directory), sends one check-in to ``URL`` with the client's deadline
``TIMEOUT`` and prints one JSON line: the error code, the seconds the exchange took and how far
the process's peak resident memory rose during it (KiB). A process of its own, so the peak is
the client's alone, not that of the test (and its hostile server) that started it.
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ed25519

# What a phone's client loads at its first exchange (its HTTP half, the wire models and the
# signature check: docs/decisions/tui-first-frame-imports.md) is loaded with this module, before
# the clock and the memory are measured: the figures are the hostile answer's, not the imports'.
import phone_sim.client.transport
import phone_sim.protocol.messages
import phone_sim.protocol.signing  # noqa: F401
from phone_sim.client.vendor_client import VendorClient
from phone_sim.device.phone import Phone
from phone_sim.device.provisioning import provision
from phone_sim.protocol.clock import FixedClock
from phone_sim.protocol.identity import Factory
from phone_sim.protocol.keys import public_key_pem
from server_stub.runtime.usage import peak_rss_kib

START = 1630497600


def measure(url: str, timeout: float) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as scratch:
        vendor = ed25519.Ed25519PrivateKey.generate().public_key()
        storage = provision(
            Path(scratch) / "phone",
            Factory.create(),
            public_key_pem(vendor),
            rng=random.Random(1),
        )
        clock = FixedClock(START)
        phone = Phone.load(storage, clock=clock, rng=random.Random(2))
        phone.power_on()
        phone.finish_boot()
        client = VendorClient(
            base_url=url,
            device_key=storage.load_key(),
            device_serial=phone.identity.serial,
            vendor_key=vendor,
            clock=clock,
            timeout=timeout,
        )
        attempt = phone.begin_activation()
        before = peak_rss_kib()
        started = time.monotonic()
        exchange = client.send(attempt)
        elapsed = time.monotonic() - started
        grew = peak_rss_kib() - before
        return {
            "error_code": exchange.error_code,
            "error": exchange.error,
            "status": exchange.status,
            "elapsed": elapsed,
            "rss_growth_kib": grew,
        }


if __name__ == "__main__":
    print(json.dumps(measure(sys.argv[1], float(sys.argv[2]))))
