"""``vendor-server``: run the vendor server, check a policy file, operate a running server.

Subcommands are small functions registered on one parser; ``admin ...`` lives in
:mod:`server_stub.admin.cli`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import signal
import sys
import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from phone_sim.protocol.clock import Clock, ClockMode, SimulatedClock
from phone_sim.protocol.identity import Factory
from phone_sim.protocol.instants import EXAMPLES, instant_argument
from server_stub.admin.cli import add_admin_parser
from server_stub.datadir.admin_token import AdminToken
from server_stub.datadir.settings import (
    DEFAULT_HOST,
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_PORT,
    DEFAULT_REQUEST_TIMEOUT,
    ServerSettings,
)
from server_stub.errors import VendorServerError
from server_stub.policy import load_policy
from server_stub.runtime.pipes import quiet_on_broken_pipe

EXIT_OK = 0
EXIT_FAILED = 1  # a server process ended while serving
EXIT_INVALID = 2  # bad arguments, bad policy, unusable settings: argparse's own convention


def entry() -> int:
    """``vendor-server`` as a program (its console script): ``serve`` may then settle the
    process's collector once it listens (docs/decisions/collector-settled-in-serving-processes.md);
    :func:`main` called from other code changes nothing process-wide."""
    return main(own_process=True)


@quiet_on_broken_pipe
def main(argv: Sequence[str] | None = None, *, own_process: bool = False) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    args.own_process = own_process
    try:
        code: int = args.handler(args)
    except VendorServerError as exc:
        # One line per problem (a policy file reports all of its problems at once).
        for line in str(exc).splitlines() or [""]:
            print(f"vendor-server: {line}", file=sys.stderr)
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
        "--clock",
        choices=[m.value for m in ClockMode],
        help="the world's time: simulated (an operator may move it) or real; default: the "
        "data directory's own clock, and for a new one real time unless --start or --speed "
        "is given",
    )
    serve.add_argument(
        "--speed",
        type=_speed,
        help="simulated seconds per real second, a whole number (3600: an hour per second; "
        "0: time moves only when advanced); default: the data directory's, else 1",
    )
    serve.add_argument(
        "--start",
        type=instant_argument,
        help=f"where a new world's simulated time starts: {EXAMPLES} (default: 1 Sep 2021, "
        "the story's start). A directory with history resumes its own time and refuses an "
        "earlier start",
    )
    serve.add_argument(
        "--admin-remote",
        action="store_true",
        help="answer the admin API from other hosts too (default: loopback only)",
    )
    serve.add_argument(
        "--workers",
        type=_workers,
        default=1,
        metavar="N",
        help="serve from N processes sharing the port, the database, the policy and the clock "
        "(one process is one interpreter lock; N > 1 needs SO_REUSEPORT, i.e. Linux; default 1)",
    )
    serve.add_argument(
        "--request-timeout",
        type=float,
        default=DEFAULT_REQUEST_TIMEOUT,
        metavar="SECONDS",
        help="time a client has to send a whole request, headers and body; a request still "
        f"arriving then gets 408 (default {DEFAULT_REQUEST_TIMEOUT:g})",
    )
    serve.add_argument(
        "--max-connections",
        type=int,
        default=DEFAULT_MAX_CONNECTIONS,
        metavar="N",
        help="connections each process holds at once, fewer if its open-file limit (ulimit -n) "
        f"is lower (default {DEFAULT_MAX_CONNECTIONS})",
    )
    serve.set_defaults(handler=_serve)

    policy = commands.add_parser("policy", help="policy files")
    policy_commands = policy.add_subparsers(dest="policy_command", required=True)
    check = policy_commands.add_parser("check", help="validate a policy file")
    check.add_argument("file", type=Path)
    check.set_defaults(handler=_policy_check)

    add_admin_parser(commands)
    return parser


def _speed(text: str) -> int:
    try:
        speed = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a whole number of simulated seconds per second"
        ) from None
    if speed < 0:
        raise argparse.ArgumentTypeError(f"the speed must be 0 or more, not {speed}")
    return speed


def _workers(text: str) -> int:
    try:
        workers = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of processes") from None
    if workers < 1:
        raise argparse.ArgumentTypeError(f"at least one process is needed, not {workers}")
    return workers


def _serve(args: argparse.Namespace) -> int:
    settings = ServerSettings(
        data_dir=args.data,
        factory_root=args.factory_root,
        policy_path=args.policy,
        host=args.host,
        port=args.port,
        admin_remote=args.admin_remote,
        clock_mode=None if args.clock is None else ClockMode(args.clock),
        clock_start=args.start,
        clock_speed=args.speed,
        shared=args.workers > 1,
        request_timeout=args.request_timeout,
        max_connections=args.max_connections,
    )
    if args.workers > 1 and not _can_share_port():
        print(
            f"vendor-server: --workers {args.workers} needs SO_REUSEPORT (Linux), which this "
            "system lacks; serve from one process (--workers 1)",
            file=sys.stderr,
        )
        return EXIT_INVALID
    if args.init_factory and not settings.factory_root_path.exists():
        Factory.open(settings.factory_root_path.parent)
    # The server runs on other threads or in other processes; this thread waits for Ctrl-C or
    # SIGTERM, then stops it cleanly (uvicorn in the main thread would re-raise the signal
    # after its own shutdown). Set before any process starts: a signal while they start
    # stops them once they serve.
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    if args.workers > 1:
        return _serve_processes(settings, args.workers, stop)
    # Imported here: uvicorn and FastAPI are not needed by `admin` and `policy` commands.
    from server_stub.runtime.embedded import EmbeddedVendorServer
    from server_stub.runtime.heap import settle_heap

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
    if args.own_process:
        # Serving is all this program does from here on
        # (docs/decisions/collector-settled-in-serving-processes.md).
        settle_heap()
    context = server.context
    _banner(server.url, server.vendor_public_key_path, context.policy.version, server.admin_token)
    _clock_line(server.clock)
    sys.stdout.flush()
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    return EXIT_OK


def _serve_processes(settings: ServerSettings, workers: int, stop: threading.Event) -> int:
    """``serve --workers N``: N server processes (server_stub.runtime.processes), this one watching."""
    from server_stub.runtime.processes import ServerProcessError, ServerProcesses

    try:
        processes = ServerProcesses(settings, workers, log_level="info")
    except ServerProcessError as exc:  # the reason is the first process's own
        print(f"vendor-server: {exc}", file=sys.stderr)
        return EXIT_INVALID
    try:
        started = processes.started
        _banner(started.url, started.vendor_public_key, started.policy_version, started.admin_token)
        _clock_line(_attached_clock(settings))
        print(f"{workers} processes (pids {', '.join(str(pid) for pid in processes.pids)})")
        sys.stdout.flush()
        ended = processes.wait(stop)
    finally:
        usages = processes.stop()
    if ended is not None:
        print(
            f"vendor-server: process {ended.number} (pid {ended.pid}) ended unexpectedly "
            f"(exit code {ended.exit_code}); the others are stopped",
            file=sys.stderr,
        )
        return EXIT_FAILED
    counts = " + ".join("?" if u is None else f"{u.requests:,}" for u in usages)
    print(f"stopped; requests answered by each process: {counts}")
    return EXIT_OK


def _can_share_port() -> bool:
    from server_stub.runtime.processes import can_share_port  # imports uvicorn, as _serve's imports

    return can_share_port()


def _banner(url: str, vendor_public_key: Path, policy_version: str, token: AdminToken) -> None:
    print(f"vendor server listening on {url}")
    print(f"vendor public key (pin it in phones): {vendor_public_key}")
    print(f"policy: {policy_version}")
    if token.created:
        # The only time the token is shown; afterwards it is only in the 0600 file.
        print(f"admin token (shown once; kept in {token.path}): {token.value}")
    else:
        print(f"admin token: in {token.path}")


def _attached_clock(settings: ServerSettings) -> Clock:
    """The clock the processes opened in the data directory, read as it is now."""
    return replace(settings, clock_attach=True).open_clock(None)


def _clock_line(clock: Clock) -> None:
    if isinstance(clock, SimulatedClock):
        moment = dt.datetime.fromtimestamp(clock.now(), tz=dt.UTC)
        start = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        print(f"simulated clock: {start} at speed {clock.speed:g}")
    else:
        print("clock: real time")


def _policy_check(args: argparse.Namespace) -> int:
    policy = load_policy(args.file)  # PolicyError is reported by main()
    networks = sum(len(t.networks) for t in policy.territories)
    territories = len(policy.territories)
    print(
        f"{args.file}: OK: policy {policy.version}, {territories} territories, {networks} networks"
    )
    return EXIT_OK
