"""The ``phone-sim`` command line: every documented option parses, and bad input is a clear error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from phone_sim.cli import build_parser, main
from phone_sim.simulation import STORY_START, load_clock, save_clock


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


def test_saved_clock_round_trip(tmp_path: Path) -> None:
    assert load_clock(tmp_path) is None
    save_clock(tmp_path, STORY_START + 5)
    assert load_clock(tmp_path) == STORY_START + 5


def test_server_without_vendor_key_is_refused(capsys: object) -> None:
    assert main(["--server", "http://127.0.0.1:1"]) == 2


def test_catalogue_lists_the_story_models_and_carriers() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "phone_sim.cli", "catalogue"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for name in ("Redmi Note 9", "POCO X3 Pro", "Cubacel", "Volna", "250-60", "MTS"):
        assert name in out
