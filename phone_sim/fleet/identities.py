"""Device identities for a fleet: made by the factory once, then read back from a cache.

A fleet device is what :func:`phone_sim.device.provisioning.provision` makes for the TUI's
phone (identity, P-256 key, factory certificate), but kept in memory: writing four files with
two fsyncs each per device is what would make 10,000 devices slow, not the cryptography
(docs/PERFORMANCE.md has the figures). Device ``i`` of a fleet with a given seed is always the
same serial and IMEIs; the cache keeps its key and certificate too, so a second run with the
same seed skips the factory altogether:

    DATA/fleet-cache/<factory id>/<model>-<market>-seed<seed>.jsonl   (0600: it holds keys)

``<factory id>`` is 16 hex digits of SHA-256 of the factory's intermediate certificate, so a
cache never hands out certificates a new factory did not issue. The file's first line says
what it holds; each further line is one device. A cache that does not match or does not parse
is regenerated, never trusted.
"""

from __future__ import annotations

import base64
import hashlib
import json
import multiprocessing
import random
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from phone_sim.device.identity import DeviceIdentity
from phone_sim.device.provisioning import new_identity
from phone_sim.protocol.files import atomic_write
from phone_sim.protocol.identity import Factory

CACHE_FORMAT = 1
#: Below this many devices to make, a process pool costs more to start than it saves.
POOL_THRESHOLD = 4000
_IMEI_SPAN = 999_998


@dataclass(frozen=True)
class DeviceKit:
    """One device as the factory made it: who it is, its key, its chain as sent on the wire."""

    identity: DeviceIdentity
    key: ec.EllipticCurvePrivateKey
    certificates: list[str]


@dataclass(frozen=True)
class Provisioned:
    kits: list[DeviceKit]
    from_cache: int
    generated: int
    seconds: float
    note: str = ""


def factory_id(factory: Factory) -> str:
    der = factory.intermediate_cert.public_bytes(serialization.Encoding.DER)
    return hashlib.sha256(der).hexdigest()[:16]


def cache_path(data_dir: Path, factory: Factory, model: str, market: str, seed: int) -> Path:
    slug = "".join(c if c.isalnum() else "_" for c in model)
    return data_dir / "fleet-cache" / factory_id(factory) / f"{slug}-{market}-seed{seed}.jsonl"


def make_entry(factory: Factory, model: str, market: str, seed: int, index: int) -> str:
    """Device ``index`` of the fleet ``seed``: a fresh key, a certificate, as one cache line."""
    rng = random.Random(f"fleet:{seed}:{model}:{market}:{index}")  # noqa: S311 - simulated ids
    # Consecutive even bases: two IMEIs per device, unique for the first 499,999 devices.
    offset = random.Random(f"fleet-imei:{seed}").randrange(0, _IMEI_SPAN)  # noqa: S311
    identity = new_identity(
        model,
        market,
        bootloader_unlocked=False,
        rng=rng,
        imei_base=(offset - offset % 2 + 2 * index) % _IMEI_SPAN,
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = factory.issue(identity.claims, key.public_key())[0]
    key_der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return json.dumps(
        {
            "i": index,
            "serial": identity.serial,
            "imeis": list(identity.imeis),
            "firmware": identity.firmware,
            "key": base64.b64encode(key_der).decode(),
            "cert": base64.b64encode(leaf).decode(),
        },
        separators=(",", ":"),
    )


def _make_batch(factory_dir: str, model: str, market: str, seed: int, indices: range) -> list[str]:
    factory = Factory.open(Path(factory_dir))
    return [make_entry(factory, model, market, seed, i) for i in indices]


def _kit(line: str, model: str, market: str, intermediate: str) -> tuple[int, DeviceKit]:
    data = json.loads(line)
    identity = DeviceIdentity(
        serial=data["serial"],
        imeis=tuple(data["imeis"]),
        model=model,
        market=market,
        firmware=data["firmware"],
    )
    key = serialization.load_der_private_key(base64.b64decode(data["key"]), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError("not a P-256 key")
    return int(data["i"]), DeviceKit(identity, key, [data["cert"], intermediate])


def kit_from_entry(entry: str, factory: Factory, model: str, market: str) -> DeviceKit:
    """The device a :func:`make_entry` line describes (for drivers that make devices one by one)."""
    intermediate = factory.intermediate_cert.public_bytes(serialization.Encoding.DER)
    return _kit(entry, model, market, base64.b64encode(intermediate).decode())[1]


class FleetFactory:
    """Hands out the first ``n`` devices of a fleet, from the cache where it can."""

    def __init__(
        self,
        factory_dir: Path,
        data_dir: Path,
        *,
        model: str,
        market: str,
        seed: int,
        use_cache: bool = True,
        workers: int | None = None,
    ) -> None:
        self.factory_dir = factory_dir
        self.factory = Factory.open(factory_dir)
        self.model, self.market, self.seed = model, market, seed
        self.path = cache_path(data_dir, self.factory, model, market, seed)
        self.use_cache = use_cache
        self.workers = workers
        intermediate = self.factory.intermediate_cert.public_bytes(serialization.Encoding.DER)
        self._intermediate = base64.b64encode(intermediate).decode()

    def _header(self) -> str:
        return json.dumps(
            {
                "format": CACHE_FORMAT,
                "factory": factory_id(self.factory),
                "model": self.model,
                "market": self.market,
                "seed": self.seed,
            },
            sort_keys=True,
        )

    def _read_cache(self) -> tuple[list[str], str]:
        """The cached lines (device ``i`` at position ``i``), and why none were usable."""
        if not self.use_cache or not self.path.exists():
            return [], ""
        try:
            header, *lines = self.path.read_text(encoding="ascii").splitlines()
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            return [], f"cache unreadable ({exc}); regenerated"
        if header != self._header():
            return [], "cache made for another factory or format; regenerated"
        return lines, ""

    def generate(self, indices: range) -> list[str]:
        """Cache lines for ``indices``: in this process, or in a pool for a large batch."""
        workers = self.workers
        if workers is None:
            workers = 1 if len(indices) < POOL_THRESHOLD else 2
        if workers <= 1:
            return [
                make_entry(self.factory, self.model, self.market, self.seed, i) for i in indices
            ]
        step = -(-len(indices) // (workers * 4))
        chunks = [indices[s : s + step] for s in range(0, len(indices), step)]
        batch = partial(_make_batch, str(self.factory_dir), self.model, self.market, self.seed)
        # spawn, not fork: a fork of a process that runs threads can inherit a held lock.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            return [line for lines in pool.map(batch, chunks) for line in lines]

    def devices(self, n: int) -> Provisioned:
        started = time.perf_counter()
        lines, note = self._read_cache()
        kits: list[DeviceKit] = []
        try:
            for position, line in enumerate(lines[:n]):
                index, kit = _kit(line, self.model, self.market, self._intermediate)
                if index != position:
                    raise ValueError(f"line {position + 2} holds device {index}")
                kits.append(kit)
        except (ValueError, KeyError, TypeError) as exc:
            lines, kits, note = [], [], f"cache corrupt ({exc}); regenerated"
        cached = len(kits)
        fresh = self.generate(range(cached, n)) if n > cached else []
        for line in fresh:
            kits.append(_kit(line, self.model, self.market, self._intermediate)[1])
        if fresh and self.use_cache:
            body = "\n".join([self._header(), *lines[:cached], *fresh]) + "\n"
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            atomic_write(self.path, body.encode("ascii"), mode=0o600)
        return Provisioned(kits, cached, len(fresh), time.perf_counter() - started, note)
