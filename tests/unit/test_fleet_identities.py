"""Fleet identities: the same devices for the same seed, kept in a private cache, never trusted
when it was made for another factory or does not parse; phone processes build their shares from
the cache only while it is the file that was checked."""

from __future__ import annotations

import datetime as dt
import hashlib
import stat
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from phone_sim.fleet.errors import CacheError
from phone_sim.fleet.identities import FleetFactory, cache_path
from phone_sim.fleet.kits import DeviceKit, IdentitySource, make_entry
from phone_sim.protocol.identity import Factory, chain_from_wire

SEPT_2021 = dt.datetime(2021, 9, 1, 12, tzinfo=dt.UTC)


def _maker(tmp_path: Path, factory: str = "factory", **kw: Any) -> FleetFactory:
    return FleetFactory(
        tmp_path / factory,
        tmp_path,
        model="Redmi Note 9",
        market="MI",
        seed=5,
        **kw,
    )


def test_devices_are_real_unique_and_reproducible(tmp_path: Path) -> None:
    made = _maker(tmp_path, use_cache=False).devices(20)
    assert (made.generated, made.from_cache) == (20, 0)
    serials = [k.identity.serial for k in made.kits]
    imeis = [i for k in made.kits for i in k.identity.imeis]
    assert len(set(serials)) == 20 and len(set(imeis)) == 40
    again = _maker(tmp_path, use_cache=False).devices(20)
    assert [k.identity.serial for k in again.kits] == serials  # same seed, same fleet
    trust = Factory.open(tmp_path / "factory").trust
    for kit in made.kits[:3]:
        claims, key = trust.verify_chain(chain_from_wire(kit.certificates), now=SEPT_2021)
        assert claims.serial == kit.identity.serial
        assert key.public_numbers() == kit.key.public_key().public_numbers()


def test_the_cache_is_private_read_back_and_extended(tmp_path: Path) -> None:
    first = _maker(tmp_path).devices(10)
    path = cache_path(tmp_path, Factory.open(tmp_path / "factory"), "Redmi Note 9", "MI", 5)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    second = _maker(tmp_path).devices(15)
    assert (second.from_cache, second.generated) == (10, 5)
    assert [k.identity.serial for k in second.kits[:10]] == [k.identity.serial for k in first.kits]
    third = _maker(tmp_path).devices(15)
    assert (third.from_cache, third.generated) == (15, 0)
    assert third.kits[3].key.private_numbers() == second.kits[3].key.private_numbers()


def test_the_cache_is_written_as_its_lines_are_made_never_held_whole(tmp_path: Path) -> None:
    # 100,000 devices' lines are about 115 MB: held whole (and joined), they raised a fleet's
    # peak memory past its 2 GiB on a first run. Here 1,200 devices (written 64 KiB at a time).
    maker = _maker(tmp_path)
    maker.devices(100, build=False)  # an existing cache, extended below
    tracemalloc.start()
    try:
        made = maker.devices(1200, build=False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    size = made.source.path.stat().st_size if made.source.path else 0
    assert (made.from_cache, made.generated) == (100, 1100) and size > 1_200_000
    assert peak < size / 4, (peak, size)  # held whole, it was three times the file
    assert [k.identity.serial for k in made.source.kits()] == [
        k.identity.serial for k in _maker(tmp_path).devices(1200).kits
    ]


def test_a_cache_replaced_between_its_check_and_its_extension_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _maker(tmp_path).devices(5)
    maker = _maker(tmp_path)
    checked = maker._check_cache

    written: list[bytes] = []

    def then_replaced(n: int, *, build: bool) -> Any:
        result = checked(n, build=build)
        # Another run regenerates the cache meanwhile: the same devices, new keys.
        other = [make_entry(maker.factory, "Redmi Note 9", "MI", 5, i) for i in range(5)]
        written.append(("\n".join([maker._header(), *other]) + "\n").encode())
        maker.path.write_bytes(written[0])
        return result

    monkeypatch.setattr(maker, "_check_cache", then_replaced)
    with pytest.raises(CacheError, match="changed after this run checked it"):
        maker.devices(8)
    assert maker.path.read_bytes() == written[0]  # left as the other run wrote it
    assert [p.name for p in maker.path.parent.iterdir()] == [maker.path.name]  # no temp file


def test_a_cache_whose_last_line_lacks_its_newline_is_extended_whole(tmp_path: Path) -> None:
    _maker(tmp_path).devices(4)
    maker = _maker(tmp_path)
    maker.path.write_bytes(maker.path.read_bytes().rstrip(b"\n"))
    made = maker.devices(6, build=False)
    assert (made.from_cache, made.generated) == (4, 2)
    assert hashlib.sha256(maker.path.read_bytes()).hexdigest() == made.source.digest
    assert len(made.source.kits()) == 6 and len(made.source.share(1, 2).kits()) == 3


def test_a_corrupt_cache_is_regenerated(tmp_path: Path) -> None:
    _maker(tmp_path).devices(5)
    path = cache_path(tmp_path, Factory.open(tmp_path / "factory"), "Redmi Note 9", "MI", 5)
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], lines[1], "{not json", *lines[3:]]) + "\n")
    made = _maker(tmp_path).devices(5)
    assert made.generated == 5 and "cache corrupt" in made.note


def test_another_factory_never_gets_this_factorys_certificates(tmp_path: Path) -> None:
    _maker(tmp_path).devices(3)
    other = _maker(tmp_path, factory="other-factory").devices(3)
    assert other.generated == 3  # its own cache file, under its own factory id
    trust = Factory.open(tmp_path / "other-factory").trust
    trust.verify_chain(chain_from_wire(other.kits[0].certificates), now=SEPT_2021)


def test_a_large_batch_is_made_in_a_pool(tmp_path: Path) -> None:
    made = _maker(tmp_path, use_cache=False, workers=2).devices(8)
    assert made.generated == 8 and len({k.identity.serial for k in made.kits}) == 8


def _shares(source: IdentitySource, processes: int) -> list[DeviceKit]:
    """Every device, built share by share as the phone processes build them, in fleet order."""
    shares = [source.share(index, processes).kits() for index in range(processes)]
    return [shares[i % processes][i // processes] for i in range(source.count)]


def _same(a: list[DeviceKit], b: list[DeviceKit]) -> bool:
    return [(k.identity, k.certificates, k.key.private_numbers()) for k in a] == [
        (k.identity, k.certificates, k.key.private_numbers()) for k in b
    ]


@pytest.mark.parametrize("use_cache", [True, False])
def test_phone_processes_build_the_same_devices_the_parent_would(
    tmp_path: Path, use_cache: bool
) -> None:
    # The parent keeps no kit; two or three shares together are exactly the devices it would build.
    made = _maker(tmp_path, use_cache=use_cache).devices(7, build=False)
    assert made.kits == [] and (made.count, made.generated) == (7, 7)
    assert (made.source.path is not None) == use_cache
    for processes in (2, 3):
        assert _same(_shares(made.source, processes), made.all_kits())
    if use_cache:  # checked in the cache, as on the next run: the same devices, keys and all
        again = _maker(tmp_path).devices(7, build=False)
        assert (again.from_cache, again.generated) == (7, 0)
        assert _same(_shares(again.source, 2), _maker(tmp_path).devices(7).kits)


def test_a_share_reads_only_the_lines_that_were_checked(tmp_path: Path) -> None:
    _maker(tmp_path).devices(10)
    five = _maker(tmp_path).devices(5, build=False).source
    # Another run extends the cache: the first five lines are the same bytes, still usable.
    _maker(tmp_path).devices(12)
    assert _same(_shares(five, 2), _maker(tmp_path).devices(5).kits)


@pytest.mark.parametrize("where", ["header", "checked line", "unchecked line"])
def test_a_cache_changed_after_the_check_is_refused(tmp_path: Path, where: str) -> None:
    _maker(tmp_path).devices(6)
    source = _maker(tmp_path).devices(4, build=False).source
    assert source.path is not None
    lines = source.path.read_bytes().split(b"\n")
    row = {"header": 0, "checked line": 2, "unchecked line": 5}[where]
    lines[row] = lines[row].replace(b'"', b"'", 1)  # one byte flipped
    source.path.write_bytes(b"\n".join(lines))
    share = source.share(1, 2)
    if where == "unchecked line":  # device 4 of 6 is not this fleet's: nothing it uses changed
        assert [k.identity.serial for k in share.kits()] == [
            k.identity.serial for k in _maker(tmp_path).devices(4).kits[1::2]
        ]
        return
    with pytest.raises(CacheError, match="changed after this run checked it"):
        share.kits()
    # And a cache regenerated by another run (new keys, same serials) is refused too.
    source.path.unlink()
    _maker(tmp_path).devices(4)
    with pytest.raises(CacheError, match="changed after this run checked it"):
        source.share(0, 2).kits()
