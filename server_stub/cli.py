"""``vendor-server``: run the vendor server, check a policy file, operate a running server.

Subcommands are small functions registered on one parser; ``admin ...`` lives in
:mod:`server_stub.admin_cli`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from phone_sim.protocol.clock import SimulatedClock
from phone_sim.protocol.identity import Factory

from .admin_cli import add_admin_parser
from .errors import VendorServerError
from .policy import load_policy
from .settings import DEFAULT_HOST, DEFAULT_PORT, ServerSettings

EXIT_OK = 0
EXIT_INVALID = 2  # bad arguments, bad policy, unusable settings: argparse's own convention


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.handler(args)
    except VendorServerError as exc:
        print(f"vendor-server: {exc}", file=sys.stderr)
        return EXIT_INVALID
    return code


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vendor-server", description="The simulated vendor activation server."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the server until interrupted")
    serve.add_argument(
        "--host", default=DEFAULT_HOST, help="interface to bind (default: loopback only)"
    )
    serve.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="TCP port; 0 picks a free one"
    )
    serve.add_argument(
        "--data", type=Path, required=True, help="directory for the vendor key and database"
    )
    serve.add_argument("--policy", type=Path, help="policy TOML (default: the packaged policy)")
    serve.add_argument(
        "--factory-root", type=Path, help="factory root PEM (default: DATA/../factory/root.pem)"
    )
    serve.add_argument(
        "--init-factory",
        action="store_true",
        help="create the simulated factory CA beside the data directory if there is none yet",
    )
    serve.add_argument(
        "--speed",
        type=float,
        help="run a simulated clock this many times real time (3600: an hour per second)",
    )
    serve.add_argument(
        "--start",
        type=_instant,
        help="start a simulated clock here: Unix seconds or ISO 8601 (2021-09-01T12:00:00Z)",
    )
    serve.add_argument(
        "--admin-remote",
        action="store_true",
        help="answer the admin API from other hosts too (default: loopback only)",
    )
    serve.set_defaults(handler=_serve)

    policy = commands.add_parser("policy", help="policy files")
    policy_commands = policy.add_subparsers(dest="policy_command", required=True)
    check = policy_commands.add_parser("check", help="validate a policy file")
    check.add_argument("file", type=Path)
    check.set_defaults(handler=_policy_check)

    add_admin_parser(commands)
    return parser


def _instant(text: str) -> float:
    if text.isdigit():
        return float(text)
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither Unix seconds nor an ISO 8601 time"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()


def _serve(args: argparse.Namespace) -> int:
    settings = ServerSettings(
        data_dir=args.data,
        factory_root=args.factory_root,
        policy_path=args.policy,
        host=args.host,
        port=args.port,
        admin_remote=args.admin_remote,
        clock_speed=args.speed,
        clock_start=args.start,
    )
    # Imported here: uvicorn and FastAPI are not needed by `admin` and `policy` commands.
    from .embedded import EmbeddedVendorServer

    if args.init_factory and not settings.factory_root_path.exists():
        Factory.open(settings.factory_root_path.parent)
    server = EmbeddedVendorServer(settings, log_level="info")
    try:
        server.start()
    except OSError as exc:
        server.stop()
        print(
            f"vendor-server: cannot listen on {settings.host}:{settings.port}: {exc}",
            file=sys.stderr,
        )
        return EXIT_INVALID
    # The server runs on its own thread; this one waits for Ctrl-C or SIGTERM, then stops it
    # cleanly (uvicorn in the main thread would re-raise the signal after its own shutdown).
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    print(f"vendor server listening on {server.url}")
    print(f"vendor public key (pin it in phones): {server.vendor_public_key_path}")
    print(f"policy: {server.app.state.context.policy.version}")
    token = server.admin_token
    if token.created:
        # The only time the token is shown; afterwards it is only in the 0600 file.
        print(f"admin token (shown once; kept in {token.path}): {token.value}")
    else:
        print(f"admin token: in {token.path}")
    if isinstance(server.clock, SimulatedClock):
        moment = dt.datetime.fromtimestamp(server.clock.now(), tz=dt.UTC)
        start = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        print(f"simulated clock: {start} at speed {server.clock.speed:g}")
    sys.stdout.flush()
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    return EXIT_OK


def _policy_check(args: argparse.Namespace) -> int:
    policy = load_policy(args.file)  # PolicyError is reported by main()
    networks = sum(len(t.networks) for t in policy.territories)
    territories = len(policy.territories)
    print(
        f"{args.file}: OK: policy {policy.version}, {territories} territories, {networks} networks"
    )
    return EXIT_OK
