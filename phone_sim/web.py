"""``phone-sim serve``: the same phone app in a web browser, through textual-serve.

textual-serve runs ``phone-sim`` (with the options given before ``serve``) as a new process for
each browser page and relays its terminal over a websocket to xterm.js in the page. It has no
authentication: whoever reaches the port plays the phone and its vendor console. So it binds to
loopback unless ``--host`` says otherwise, and then says loudly what that means.

The page textual-serve ships loads its font from a CDN; users (and CI) may be offline, so the
page is served from a copy of textual-serve's template whose font comes from textual-serve's
own static files instead.
"""

from __future__ import annotations

import argparse
import ipaddress
import shlex
import sys
import tempfile
from pathlib import Path
from typing import Any, TextIO

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
#: the CDN stylesheet in textual-serve's page, replaced by a font served from its static files
CDN_FONT = (
    '<link\n      rel="stylesheet"\n'
    '      href="https://fonts.googleapis.com/css?family=Roboto%20Mono"\n    />'
)
LOCAL_FONT = """<style>
      @font-face {
        font-family: "Roboto Mono";
        src: url("{{ config.static.url }}fonts/RobotoMono-VariableFont_wght.ttf") format("truetype");
        font-weight: 100 700;
      }
    </style>"""


class ServeError(Exception):
    """The browser front end cannot start; the text says why."""


def add_serve_command(sub: Any) -> None:
    serve = sub.add_parser(
        "serve",
        help="serve the phone in a web browser (textual-serve; no authentication)",
        description="Serve the phone app to a web browser. Options before 'serve' "
        "(--data, --speed, --start, --server...) apply to the phone each page starts.",
    )
    serve.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"address to listen on (default {DEFAULT_HOST}: this machine only)",
    )
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (default 8000)")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def phone_command(args: argparse.Namespace) -> str:
    """The ``phone-sim`` command each page runs: the options given before ``serve``."""
    argv = [sys.executable, "-m", "phone_sim.cli", "--data", str(Path(args.data).resolve())]
    for flag, value in (
        ("--server", args.server),
        ("--vendor-key", args.vendor_key),
        ("--admin-token-file", args.admin_token_file),
        ("--factory", args.factory),
        ("--start", args.start),
        ("--speed", args.speed),
        ("--seed", args.seed),
    ):
        if value is not None:
            argv += [flag, str(value)]
    if args.phones != 1:
        argv += ["--phones", str(args.phones)]
    return shlex.join(argv)


def offline_templates(directory: Path) -> Path:
    """Write textual-serve's page with its font served locally; return the templates folder."""
    import textual_serve

    original = Path(textual_serve.__file__).parent / "templates" / "app_index.html"
    page = original.read_text(encoding="utf-8")
    if CDN_FONT not in page:
        raise ServeError(
            f"{original} no longer loads its font as expected; phone_sim/web.py must be updated "
            "so the page works offline"
        )
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "app_index.html").write_text(page.replace(CDN_FONT, LOCAL_FONT), encoding="utf-8")
    return directory


def run_serve(args: argparse.Namespace, err: TextIO = sys.stderr) -> int:
    from textual_serve.server import Server

    if not is_loopback(args.host):
        print(
            f"WARNING: serving on {args.host}, not loopback. textual-serve has no "
            "authentication: anyone who can reach this port can use the phone, its SIM tray and "
            "the vendor console (lock and release any phone).",
            file=err,
        )
    with tempfile.TemporaryDirectory(prefix="phone-sim-web-") as scratch:
        try:
            templates = offline_templates(Path(scratch) / "templates")
        except ServeError as exc:
            print(f"phone-sim: {exc}", file=err)
            return 2
        server = Server(
            phone_command(args),
            host=args.host,
            port=args.port,
            title="phone-sim",
            templates_path=templates,
        )
        print(f"phone-sim in a browser: http://{args.host}:{args.port}/ (Ctrl+C stops)", file=err)
        server.serve()
    return 0
