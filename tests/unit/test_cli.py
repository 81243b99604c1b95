"""The ``phone-sim`` command line: every documented option parses, and bad input is a clear error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from phone_sim.cli import build_parser, main
from phone_sim.device.provisioning import provision
from phone_sim.protocol.clock import STORY_START
from phone_sim.protocol.identity import Factory
from phone_sim.world.launch import _legacy_start


def test_every_option_parses() -> None:
    args = build_parser().parse_args(
        [
            "--data", "d", "--server", "http://127.0.0.1:1", "--vendor-key", "k.pem",
            "--model", "Redmi 9A", "--market", "IN", "--unlocked", "--custom-rom", "--new-phone",
            "--admin-token-file", "t", "--speed", "3600", "--start", "1630497600", "--seed", "7",
        ]
    )  # fmt: skip
    assert (args.model, args.market, args.custom_rom, args.speed, args.seed) == (
        "Redmi 9A", "IN", True, 3600.0, 7,
    )  # fmt: skip
    assert args.start == STORY_START and args.admin_token_file == Path("t")


def test_start_defaults_to_resuming_the_data_dir() -> None:
    assert build_parser().parse_args([]).start is None


def test_a_world_left_by_an_earlier_version_resumes_its_time(tmp_path: Path) -> None:
    # Before the vendor kept the world's time, the phone's side kept it in DATA/clock.json.
    assert _legacy_start(tmp_path) is None
    (tmp_path / "clock.json").write_text(f'{{"now": {STORY_START + 5}}}')
    assert _legacy_start(tmp_path) == STORY_START + 5
    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor" / "clock.json").write_text("{}")  # the vendor's own clock rules now
    assert _legacy_start(tmp_path) is None


def test_server_without_vendor_key_is_refused(tmp_path: Path) -> None:
    assert main(["--data", str(tmp_path), "--server", "http://127.0.0.1:1"]) == 2


def test_catalogue_lists_the_story_models_and_carriers() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "phone_sim.cli", "catalogue"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for name in ("Redmi Note 9", "POCO X3 Pro", "Cubacel", "Volna", "250-60", "MTS"):
        assert name in out


def test_both_clis_accept_the_same_start_formats() -> None:
    from server_stub.cli import _parser as vendor_parser

    for text in (
        "1630497600",
        "2021-09-01T12:00:00Z",
        "2021-09-01T12:00:00+00:00",
        "2021-09-01 12:00",
    ):
        phone = build_parser().parse_args(["--start", text]).start
        vendor = vendor_parser().parse_args(["serve", "--data", "d", "--start", text]).start
        assert phone == vendor == STORY_START, text
    assert build_parser().parse_args(["--start", "2021-09-01"]).start == STORY_START - 12 * 3600


def test_a_bad_start_is_a_usage_error_saying_what_is_accepted(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["--start", "next tuesday"])
    assert exited.value.code == 2
    assert "ISO 8601" in capsys.readouterr().err


def test_model_options_without_new_phone_are_refused_once_a_phone_exists(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    vendor_pem = (
        ed25519.Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    provision(data / "phone", Factory.open(data / "factory"), vendor_pem)
    assert main(["--data", str(data), "--model", "Redmi 9A", "--market", "IN"]) == 2
    err = capsys.readouterr().err
    assert "--model and --market describe a new phone" in err
    assert "Redmi Note 9 (MI)" in err and "--new-phone" in err
    assert main(["--data", str(data), "--model", "Redmi 9A"]) == 2
    assert "--model describes a new phone" in capsys.readouterr().err
