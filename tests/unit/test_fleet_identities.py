"""Fleet identities: the same devices for the same seed, kept in a private cache, never trusted
when it was made for another factory or does not parse."""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path
from typing import Any

from phone_sim.fleet.identities import FleetFactory, cache_path
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
