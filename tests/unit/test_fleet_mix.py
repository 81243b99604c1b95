"""The fleet's SIM mix file: exact counts, a reproducible order, and errors that name the key."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from phone_sim.fleet.errors import MixError
from phone_sim.fleet.mix import load_mix, parse_mix, story_mix
from tests.support.nesting import KINDS, nested


def test_counts_are_exact_by_largest_remainder() -> None:
    mix = parse_mix({"sims": {"Telekom": 90, "Cubacel": 10}})
    assert [n for n in mix.counts(50).values()] == [45, 5]
    three = parse_mix({"sims": {"Telekom": 1, "MTS": 1, "Volna": 1}})
    assert sorted(three.counts(10).values()) == [3, 3, 4]
    assert sum(three.counts(10_001).values()) == 10_001


def test_the_order_is_fixed_by_the_seed() -> None:
    mix = story_mix()
    first = [c.name for c in mix.assign(100, seed=1)]
    assert first == [c.name for c in mix.assign(100, seed=1)]
    assert first != [c.name for c in mix.assign(100, seed=2)]
    assert Counter(first) == {"Telekom": 90, "Cubacel": 10}


def test_carriers_codes_and_no_sim() -> None:
    mix = parse_mix(
        {
            "device": {"model": "Redmi Note 10", "market": "EU"},
            "sims": {"telekom": 2, "432-35": 1, "999-99": 0, "none": 1},
        }
    )
    labels = [choice.label for choice, _ in mix.weights]
    assert labels == ["Telekom (262-01)", "Irancell (432-35)", "no SIM"]
    assert (mix.model, mix.market) == ("Redmi Note 10", "EU")
    assert mix.weights[2][0].sim() is None
    custom = parse_mix({"sims": {"262-07": 1}}).weights[0][0]
    assert custom.network is not None and custom.network.code == "262-07"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"sims": {"Atlantis": 1}}, "sims.Atlantis: not a carrier"),
        ({"sims": {"Telekom": -1}}, "a weight must be a number >= 0"),
        ({"sims": {"Telekom": True}}, "a weight must be a number >= 0"),
        ({"sims": {"Telekom": 0}}, "every weight in [sims] is 0"),
        ({"sims": {}}, "[sims] must be a table"),
        ({"sim": {"Telekom": 1}}, "unknown key(s) sim"),
        ({"device": {"model": "Redmi 9A", "market": "EU"}, "sims": {"none": 1}}, "not sold in"),
        ({"device": {"colour": "blue"}, "sims": {"none": 1}}, "device: unknown key(s) colour"),
        ({"sims": {"999-1": 1}}, "invalid MCC/MNC"),
    ],
)
def test_a_bad_mix_is_refused_with_its_key(data: dict[str, object], message: str) -> None:
    with pytest.raises(MixError) as refused:
        parse_mix(data, source="mix.toml")
    assert message in str(refused.value)
    assert str(refused.value).startswith("mix.toml: ")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[device]\nmodel = "Redmi Note 9"\n\n[sims]\nTelekom = 90\nCubacel = "ten"\n',
         "mix.toml:6: sims.Cubacel: a weight must be a number >= 0"),
        ("[sims]\nTelekom = 90\nCubacell = 10\n", "mix.toml:3: sims.Cubacell: not a carrier"),
        ('description = "d"\n[device]\nmarket = "EU"\nmodel = "Redmi 9A"\n[sims]\nnone = 1\n',
         "mix.toml:3: Redmi 9A was not sold in market EU"),
        ('[device]\nmodel = "Redmi 9A"\ncolour = "blue"\n[sims]\nnone = 1\n',
         "mix.toml:3: device: unknown key(s) colour"),
        ("description = 3\n[sims]\nnone = 1\n", "mix.toml:1: description must be a string"),
        ("[sims]\nTelekom = 0\n", "mix.toml:1: every weight in [sims] is 0"),
        ("[sims]\nnone = 1\n[extra]\nx = 1\n", "mix.toml:3: unknown key(s) extra"),
        ("[sims\nTelekom = 90\n", "mix.toml:1: not a TOML file: Expected ']'"),
        ("sims.Telekom = 1\nsims.Atlantis = 2\n", "mix.toml:2: sims.Atlantis: not a carrier"),
        ('device.model = "Redmi 9A"\ndevice.market = "EU"\nsims.none = 1\n',
         "mix.toml:2: Redmi 9A was not sold in market EU"),
        ("[sims]\nTelekom = 90\n# Cubacel = 10\nCubacel = \"ten\"\n",
         "mix.toml:4: sims.Cubacel: a weight must be a number >= 0"),
        ('[sims]\nTelekom = 90 # "Atlantis" = 1\n"Atlantis" = 1\n',
         "mix.toml:3: sims.Atlantis: not a carrier"),
        ("sims = { Telekom = 1, Atlantis = 2 }\n", "mix.toml:1: sims.Atlantis: not a carrier"),
    ],
    ids=[
        "weight", "carrier", "market", "device-key", "description", "all-zero", "top-key", "toml",
        "dotted", "dotted-device", "commented-out", "comment-after-value", "inline",
    ],
)  # fmt: skip
def test_a_bad_mix_file_names_its_line(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "mix.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MixError) as refused:
        load_mix(path)
    assert str(refused.value).startswith(str(tmp_path / expected))


def test_files(tmp_path: Path) -> None:
    path = tmp_path / "mix.toml"
    path.write_text('description = "d"\n[sims]\nCubacel = 1\n', encoding="utf-8")
    assert load_mix(path).description == "d"
    path.write_text("[sims\n", encoding="utf-8")
    with pytest.raises(MixError, match="not a TOML file"):
        load_mix(path)
    with pytest.raises(MixError, match="cannot read the mix"):
        load_mix(tmp_path / "missing.toml")


def test_every_problem_of_a_mix_file_is_reported_at_once(tmp_path: Path) -> None:
    path = tmp_path / "mix.toml"
    path.write_text(
        'colour = "blue"\n[device]\nmodel = "Redmi 9A"\nmarket = "EU"\n'
        '[sims]\nTelekom = 90\nCubacell = 10\nVodafone = "five"\n',
        encoding="utf-8",
    )
    with pytest.raises(MixError) as refused:
        load_mix(path)
    assert str(refused.value).splitlines() == [
        f"{path}:1: unknown key(s) colour",
        f"{path}:4: Redmi 9A was not sold in market EU",
        f"{path}:7: sims.Cubacell: not a carrier (phone-sim catalogue), an MCC-MNC or 'none'; "
        "did you mean 'Cubacel'?",
        f"{path}:8: sims.Vodafone: a weight must be a number >= 0",
    ]
    assert [p.line for p in refused.value.problems] == [1, 4, 7, 8]


@pytest.mark.parametrize("weight", ["nan", "inf"])
def test_a_weight_must_be_a_finite_number(weight: str) -> None:
    # Before: nan was silently left out of the mix, and inf made counts() fail on int(nan).
    with pytest.raises(MixError, match=r"sims\.Telekom: a weight must be a number >= 0"):
        parse_mix({"sims": {"Telekom": float(weight)}}, source="mix.toml")


def test_a_misspelt_key_gets_a_did_you_mean() -> None:
    with pytest.raises(MixError, match=r"unknown key\(s\) sim; did you mean 'sims'\?"):
        parse_mix({"sim": {"Telekom": 1}, "sims": {"Telekom": 1}}, source="mix.toml")


@pytest.mark.parametrize("kind", KINDS)
def test_a_deeply_nested_mix_is_one_clean_problem(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "mix.toml"
    path.write_text(nested("description", kind) + "[sims]\nTelekom = 1\n", encoding="utf-8")
    with pytest.raises(MixError) as refused:
        load_mix(path)
    assert str(refused.value) == (
        f"{path}:1: description: nested more than 32 levels deep (tables, arrays or dotted keys)"
    )
