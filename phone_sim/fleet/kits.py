"""One fleet device as a line of its identity cache: made by the factory, read back as a kit.

A line is JSON: the device's index, serial, IMEIs, firmware, P-256 key (PKCS#8 DER) and factory
certificate (DER), both base64. :func:`make_entry` makes one; :func:`parse_line` reads one back
into a :class:`DeviceKit`; an :class:`IdentitySource` is a share of a fleet's lines that a phone
process builds its own kits from, once it has checked the file is the one its parent checked.
``identities.py`` decides which lines come from the cache and which are made afresh.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from phone_sim.device.identity import DeviceIdentity
from phone_sim.device.provisioning import new_identity
from phone_sim.protocol.identity import Factory

from .errors import CacheError

_IMEI_SPAN = 999_998


@dataclass(frozen=True)
class DeviceKit:
    """One device as the factory made it: who it is, its key, its chain as sent on the wire."""

    identity: DeviceIdentity
    key: ec.EllipticCurvePrivateKey
    certificates: list[str]


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


def make_batch(factory_dir: str, model: str, market: str, seed: int, indices: range) -> list[str]:
    factory = Factory.open(Path(factory_dir))
    return [make_entry(factory, model, market, seed, i) for i in indices]


def parse_line(line: str, model: str, market: str, intermediate: str) -> tuple[int, DeviceKit]:
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
    return parse_line(entry, model, market, base64.b64encode(intermediate).decode())[1]


@dataclass(frozen=True)
class IdentitySource:
    """A fleet's devices as cache lines, for any process to build its kits from (picklable).

    A phone process (``processes.py``) gets this, not the kits: the parent then never holds the
    whole fleet's keys, and a pipe carries a path instead of 10,000 keys and certificates. The
    lines are in the cache file, which a process uses only if its header and first ``count``
    lines are still the bytes the parent checked (they hash to ``digest``): a file another run
    replaced meanwhile is refused, never trusted. Without a cache (``--no-cache``) the lines
    travel themselves. ``start`` and ``step`` pick a share: devices ``start``, ``start + step``,
    ... below ``count``.
    """

    count: int
    model: str
    market: str
    #: the factory's intermediate certificate, base64 DER: every device's chain ends with it
    intermediate: str
    path: Path | None = None
    digest: str = ""
    #: without a file: this share's own lines, in order
    lines: tuple[str, ...] = ()
    start: int = 0
    step: int = 1

    def share(self, index: int, processes: int) -> IdentitySource:
        """Every ``processes``-th device from device ``index``: one phone process's share."""
        return replace(
            self,
            start=self.start + index * self.step,
            step=self.step * processes,
            lines=self.lines[index::processes],
        )

    def kits(self) -> list[DeviceKit]:
        """This share's devices, built here.

        Raises:
            CacheError: the cache file is not the one that was checked, or does not parse.
        """
        lines = self.lines if self.path is None else self._read()
        positions = range(self.start, self.count, self.step)
        try:
            kits = []
            for position, line in zip(positions, lines, strict=True):
                index, kit = parse_line(line, self.model, self.market, self.intermediate)
                if index != position:
                    raise ValueError(f"line {position + 2} holds device {index}")
                kits.append(kit)
        except (ValueError, KeyError, TypeError) as exc:
            raise CacheError(f"{self.path or 'identities'}: not usable ({exc})") from exc
        return kits

    def _read(self) -> list[str]:
        assert self.path is not None
        return read_checked(self.path, self.count, self.digest, self.start, self.step)


def stream_checked(path: Path, count: int, digest: str) -> Iterator[bytes]:
    """The header and the first ``count`` device lines of ``path``, raw, as they are read; at
    the end, :class:`CacheError` unless they are the bytes that hashed to ``digest``. Nothing
    read may be acted on before the end.

    Raises:
        CacheError: the file cannot be read, or is not the one that was checked.
    """
    hashed = hashlib.sha256()
    try:
        with path.open("rb") as file:
            for _ in range(count + 1):
                raw = file.readline()
                hashed.update(raw)
                yield raw
    except OSError as exc:
        raise CacheError(f"{path}: cannot read the identity cache ({exc})") from exc
    if hashed.hexdigest() != digest:
        raise CacheError(
            f"{path}: the identity cache changed after this run checked it "
            "(another run regenerated it?); run again"
        )


def read_checked(path: Path, count: int, digest: str, start: int = 0, step: int = 1) -> list[str]:
    """Lines ``start``, ``start + step``, ... of the first ``count`` devices cached in ``path``,
    if its header and those ``count`` lines are still the bytes that hashed to ``digest``.

    Raises:
        CacheError: the file cannot be read, or is not the one that was checked.
    """
    # The whole list before anything is parsed: only the bytes that were checked are used.
    mine = [
        raw
        for position, raw in enumerate(stream_checked(path, count, digest), start=-1)
        if position >= start and (position - start) % step == 0
    ]
    return [raw.decode("ascii").rstrip("\n") for raw in mine]
