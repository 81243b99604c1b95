"""``phone-sim serve``: loopback by default, a loud warning elsewhere, a page that works offline."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
import textual_serve.server

from phone_sim.cli import build_parser
from phone_sim.web import is_loopback, offline_templates, phone_command, run_serve


class RecordingServer:
    """Stands in for textual-serve's server (an edge we do not own): records, serves nothing."""

    made: list[dict[str, Any]] = []

    def __init__(self, command: str, **options: Any) -> None:
        self.made.append({"command": command, **options})

    def serve(self, debug: bool = False) -> None:
        pass


def test_serve_binds_loopback_by_default() -> None:
    args = build_parser().parse_args(["serve"])
    assert (args.host, args.port) == ("127.0.0.1", 8000)
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.0.2.7")


@pytest.mark.parametrize(("host", "warned"), [("127.0.0.1", False), ("0.0.0.0", True)])
def test_serving_beyond_loopback_warns_that_there_is_no_authentication(
    monkeypatch: pytest.MonkeyPatch, host: str, warned: bool
) -> None:
    monkeypatch.setattr(textual_serve.server, "Server", RecordingServer)
    err = io.StringIO()
    args = build_parser().parse_args(["--data", "d", "--speed", "60", "serve", "--host", host])
    assert run_serve(args, err=err) == 0
    made = RecordingServer.made[-1]
    assert made["host"] == host
    assert ("no authentication" in err.getvalue()) is warned
    assert "--speed 60" in made["command"] and str(Path("d").resolve()) in made["command"]


def test_the_page_loads_its_font_from_the_server_not_a_cdn(tmp_path: Path) -> None:
    page = (offline_templates(tmp_path) / "app_index.html").read_text()
    assert "fonts.googleapis.com" not in page and "https://" not in page.split("<body")[0]
    assert "fonts/RobotoMono-VariableFont_wght.ttf" in page


def test_each_page_runs_phone_sim_with_the_options_before_serve() -> None:
    args = build_parser().parse_args(["--data", "x", "--start", "2021-09-01", "serve"])
    assert phone_command(args).split()[1:4] == ["-m", "phone_sim.cli", "--data"]
    assert "--start 1630454400.0" in phone_command(args)
