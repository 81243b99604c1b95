"""Device identities for a fleet: made by the factory once, then read back from a cache.

A fleet device is what :func:`phone_sim.device.provisioning.provision` makes for the TUI's
phone (identity, P-256 key, factory certificate), but kept in memory: writing four files with
two fsyncs each per device is what would make 10,000 devices slow, not the cryptography
(docs/decisions/fleet-identities-in-memory-and-cached.md). Device ``i`` of a fleet with a given
seed is always the same serial and IMEIs; the cache keeps its key and certificate too, so a
second run with the same seed skips the factory altogether:

    DATA/fleet-cache/<factory id>/<model>-<market>-seed<seed>.jsonl   (0600: it holds keys)

``<factory id>`` is 16 hex digits of SHA-256 of the factory's intermediate certificate, so a
cache never hands out certificates a new factory did not issue. The file's first line says
what it holds; each further line is one device. A cache that does not match or does not parse
is regenerated, never trusted.

Phones spread over several processes are not built here: this process checks the cache (or
makes it) and keeps no device, and each phone process builds its own share from the file
(:class:`~.kits.IdentitySource`), once it has checked that the file is still what was checked
here. What a line holds, and how it is made and read back, is in ``kits.py``.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import multiprocessing
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from phone_sim.protocol.files import atomic_write_chunks
from phone_sim.protocol.identity import Factory

from .kits import DeviceKit, IdentitySource, make_batch, make_entry, parse_line, stream_checked

CACHE_FORMAT = 1
#: Below this many devices to make, a process pool costs more to start than it saves.
POOL_THRESHOLD = 4000
#: Devices a pool worker makes at a time: what this process holds of a batch is a few of these.
POOL_CHUNK = 1000


def factory_id(factory: Factory) -> str:
    der = factory.intermediate_cert.public_bytes(serialization.Encoding.DER)
    return hashlib.sha256(der).hexdigest()[:16]


def cache_path(data_dir: Path, factory: Factory, model: str, market: str, seed: int) -> Path:
    slug = "".join(c if c.isalnum() else "_" for c in model)
    return data_dir / "fleet-cache" / factory_id(factory) / f"{slug}-{market}-seed{seed}.jsonl"


@dataclass(frozen=True)
class Provisioned:
    """The first ``n`` devices of a fleet: where they are, and (if asked for) the devices."""

    source: IdentitySource
    from_cache: int
    generated: int
    seconds: float
    note: str = ""
    #: the devices, built in this process: empty when ``devices(n, build=False)``
    kits: list[DeviceKit] = field(default_factory=list)

    @property
    def count(self) -> int:
        return self.source.count

    def all_kits(self) -> list[DeviceKit]:
        """Every device, built here unless :meth:`FleetFactory.devices` built them already."""
        return self.kits or self.source.kits()


@dataclass
class _Checked:
    """What reading the cache found: how many devices parse, their hash, why none were used."""

    count: int = 0
    #: SHA-256 of the header and the ``count`` lines, as read
    digest: str = ""
    kits: list[DeviceKit] = field(default_factory=list)
    note: str = ""


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

    def _check_cache(self, n: int, *, build: bool) -> _Checked:
        """The first ``n`` cached devices that parse, read a line at a time.

        Line by line, keeping nothing unless ``build``: checking 10,000 devices for a phone
        process to build then costs this process no memory (the kits would be 25 MiB).
        """
        if not self.use_cache or not self.path.exists():
            return _Checked()
        checked, digest = _Checked(), hashlib.sha256()
        try:
            with self.path.open("rb") as file:
                header = file.readline()
                if header.decode("ascii").rstrip("\n") != self._header():
                    return _Checked(note="cache made for another factory or format; regenerated")
                digest.update(header)
                for position, raw in enumerate(file):
                    if position == n:
                        break
                    line = raw.decode("ascii")
                    index, kit = parse_line(line, self.model, self.market, self._intermediate)
                    if index != position:
                        raise ValueError(f"line {position + 2} holds device {index}")
                    if build:
                        checked.kits.append(kit)
                    digest.update(raw)
                    checked.count += 1
        except (OSError, UnicodeDecodeError) as exc:
            return _Checked(note=f"cache unreadable ({exc}); regenerated")
        except (ValueError, KeyError, TypeError) as exc:
            return _Checked(note=f"cache corrupt ({exc}); regenerated")
        checked.digest = digest.hexdigest()
        return checked

    def generate(self, indices: range) -> list[str]:
        """Cache lines for ``indices``: in this process, or in a pool for a large batch."""
        return list(self.made(indices))

    def made(self, indices: range) -> Iterator[str]:
        """Cache lines for ``indices``, in order, as they are made: in this process, or in a pool
        for a large batch, which works in chunks of at most :data:`POOL_CHUNK` devices, so this
        process holds a few chunks at a time, never the batch."""
        workers = self.workers
        if workers is None:
            workers = 1 if len(indices) < POOL_THRESHOLD else 2
        if workers <= 1:
            for i in indices:
                yield make_entry(self.factory, self.model, self.market, self.seed, i)
            return
        step = min(POOL_CHUNK, -(-len(indices) // (workers * 4)))
        chunks = [indices[s : s + step] for s in range(0, len(indices), step)]
        batch = partial(make_batch, str(self.factory_dir), self.model, self.market, self.seed)
        # spawn, not fork: a fork of a process that runs threads can inherit a held lock.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            try:
                for lines in pool.map(batch, chunks):
                    yield from lines
            except BaseException:
                # The caller stopped (its write failed) or a chunk did: make no more.
                pool.shutdown(cancel_futures=True)
                raise

    def devices(self, n: int, *, build: bool = True) -> Provisioned:
        """The first ``n`` devices: checked (or made) and cached; built here only if ``build``.

        With ``build=False`` the result's ``source`` is what other processes build them from
        (a phone process each builds its share): this one keeps no kit.
        """
        started = time.perf_counter()
        checked = self._check_cache(n, build=build)
        cached = checked.count
        fresh: Iterable[str] = self.made(range(cached, n))
        if build:
            fresh = self._built(fresh, checked.kits)
        source = IdentitySource(n, self.model, self.market, self._intermediate)
        if not self.use_cache:
            source = replace(source, lines=tuple(fresh))
        elif n > cached:
            source = replace(source, path=self.path, digest=self._extend(checked, fresh))
        else:
            source = replace(source, path=self.path, digest=checked.digest)
        seconds = time.perf_counter() - started
        return Provisioned(source, cached, n - cached, seconds, checked.note, checked.kits)

    def _built(self, lines: Iterable[str], kits: list[DeviceKit]) -> Iterator[str]:
        """``lines`` passed on, each one's device built into ``kits`` on the way."""
        for line in lines:
            kits.append(parse_line(line, self.model, self.market, self._intermediate)[1])
            yield line

    def _extend(self, checked: _Checked, fresh: Iterable[str]) -> str:
        """The cache replaced by its header and checked lines, then ``fresh``'s, written as they
        come (100,000 devices' lines are about 115 MB: never whole in memory here,
        docs/decisions/identity-cache-written-as-made.md); the SHA-256 of what was written.
        The lines checked are read again, and the new file is used only if they are still the
        bytes that were checked.

        Raises:
            CacheError: the cache changed after it was checked.
        """
        old: Iterable[bytes] = (
            stream_checked(self.path, checked.count, checked.digest)
            if checked.count
            else [(self._header() + "\n").encode("ascii")]
        )
        hashed = hashlib.sha256()

        def lines() -> Iterator[bytes]:
            for raw in itertools.chain(old, (f"{line}\n".encode("ascii") for line in fresh)):
                raw = raw if raw.endswith(b"\n") else raw + b"\n"
                hashed.update(raw)
                yield raw

        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        atomic_write_chunks(self.path, lines(), mode=0o600)
        return hashed.hexdigest()
