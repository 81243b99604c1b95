"""``phone-sim fleet``: many headless phones against one vendor server, and what it cost.

Exit status: 0 when every request was answered with a verdict the phones accepted, 1 when any
failed (the summary says which kinds), 2 when the run could not start (or a phone process
died), 130 when interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from phone_sim.device.catalogue import MARKETS, MODELS
from server_stub.datadir.admin_token import TOKEN_ENV

from .errors import FleetError

if TYPE_CHECKING:
    from .mix import SimMix
    from .server import FleetServer

# What runs a fleet (the mix's pydantic models, the identities, the phones, the embedded server
# and its FastAPI) is imported by `run_fleet_command`, not here: `phone-sim` builds its parser
# from this module, and each phone process the fleet spawns imports `phone-sim` again
# (docs/decisions/lazy-subcommand-imports.md, docs/decisions/tui-first-frame-imports.md).


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be at least 0, got {value}")
    return value


#: fleets this large or larger get a second server process and a second phone process by
#: default (where they can have one)
SECOND_WORKER_FROM = 1000


def add_fleet_command(sub: Any) -> None:
    """Add ``fleet`` to the ``phone-sim`` subcommands."""
    fleet = sub.add_parser(
        "fleet",
        help="run N headless phones against a vendor server (docs/FLEET.md)",
        description="Provision, activate and check in a fleet of headless phones.",
    )
    fleet.add_argument("--devices", type=_positive, default=100, metavar="N")
    fleet.add_argument(
        "--concurrency", type=_positive, default=8, metavar="C", help="requests in flight"
    )
    fleet.add_argument(
        "--checkins", type=_count, default=1, metavar="K", help="rounds after activation"
    )
    fleet.add_argument(
        "--processes", type=_positive, metavar="P",
        help="processes the phones are spread over, sharing the concurrency "
        "(default: 2 from 1,000 devices on 2+ cores, else 1)",
    )  # fmt: skip
    fleet.add_argument(
        "--mix",
        type=Path,
        metavar="FILE",
        help="SIM mix TOML (default: 90%% Telekom, 10%% Cubacel)",
    )
    fleet.add_argument("--model", choices=sorted(MODELS), help="overrides the mix's [device]")
    fleet.add_argument("--market", choices=sorted(MARKETS), help="overrides the mix's [device]")
    fleet.add_argument(
        "--seed",
        dest="fleet_seed",
        type=int,
        default=0,
        help="which fleet (serials, IMEIs, SIM order)",
    )
    fleet.add_argument(
        "--data", dest="fleet_data", type=Path, metavar="DIR", help="default: the top-level --data"
    )
    fleet.add_argument(
        "--server", dest="fleet_server", metavar="URL", help="a running vendor server"
    )
    fleet.add_argument("--vendor-key", dest="fleet_vendor_key", type=Path, metavar="PEM")
    fleet.add_argument(
        "--admin-token-file", dest="fleet_admin_token", type=Path, metavar="FILE",
        help=f"lets the fleet move a simulated server's clock (default: ${TOKEN_ENV})",
    )  # fmt: skip
    fleet.add_argument(
        "--factory", dest="fleet_factory", type=Path, metavar="DIR",
        help="the factory the server trusts (default: DATA/factory)",
    )  # fmt: skip
    fleet.add_argument("--in-process", action="store_true", help="embedded server on a thread here")
    fleet.add_argument(
        "--server-workers", type=_positive, metavar="W",
        help="embedded server's processes (default: 2 from 1,000 devices on 2+ cores, else 1)",
    )  # fmt: skip
    fleet.add_argument(
        "--policy", dest="fleet_policy", type=Path, metavar="FILE", help="embedded server's policy"
    )
    fleet.add_argument("--timeout", type=float, default=10.0, help="seconds per request")
    fleet.add_argument("--no-cache", action="store_true", help="make identities afresh, keep none")
    fleet.add_argument(
        "--json", dest="fleet_json", type=Path, metavar="FILE", help="write the report as JSON"
    )
    fleet.add_argument("-q", "--quiet", action="store_true", help="no progress line")  # fmt: skip


def _mix(args: argparse.Namespace) -> SimMix:
    from .mix import load_mix, parse_mix, story_mix

    mix = load_mix(args.mix) if args.mix is not None else story_mix()
    if args.model is None and args.market is None:
        return mix
    # Re-checked through the parser: the model must have been sold in the market.
    model, market = args.model or mix.model, args.market or mix.market
    parse_mix({"device": {"model": model, "market": market}, "sims": {"none": 1}}, source="--model")
    return replace(mix, model=model, market=market)


def _token(args: argparse.Namespace) -> str | None:
    if args.fleet_admin_token is not None:
        try:
            return str(args.fleet_admin_token.read_text(encoding="ascii").strip())
        except (OSError, UnicodeDecodeError) as exc:
            raise FleetError(
                f"{args.fleet_admin_token}: cannot read the admin token: {exc}"
            ) from exc
    return os.environ.get(TOKEN_ENV)


def _server(args: argparse.Namespace, data: Path, factory: Path, run_dir: Path) -> FleetServer:
    from phone_sim.protocol.clock import STORY_START

    from .server import ChildServer, RemoteServer, ThreadServer

    if args.fleet_server is not None:
        if args.fleet_vendor_key is None:
            raise FleetError("--server needs --vendor-key (the vendor public key phones pin)")
        return RemoteServer(args.fleet_server, args.fleet_vendor_key, _token(args))
    root = factory / "root.pem"
    if args.in_process:
        return ThreadServer(run_dir / "vendor", root, start=STORY_START, policy=args.fleet_policy)
    return ChildServer(
        run_dir / "vendor",
        root,
        start=STORY_START,
        policy=args.fleet_policy,
        workers=server_workers(args.server_workers, args.devices),
    )


def server_workers(asked: int | None, devices: int) -> int:
    """How many processes the embedded server runs: as asked, or what pays off here.

    A second process costs about half a second to start and pays off only once the server's
    one interpreter is busy: from about a thousand devices
    (docs/decisions/two-server-processes-for-large-fleets.md).
    """
    from server_stub.runtime.processes import can_share_port

    return _processes(asked, devices, possible=can_share_port())


#: devices per phone process, at least, before another process is worth its start (0.5 s)
DEVICES_PER_PHONE_PROCESS = 500


def phone_processes(asked: int | None, devices: int, server_url: str | None = None) -> int:
    """How many processes the phones run in: as asked, or (as for the server) what pays off.

    One interpreter drives about 600 round trips a second (docs/decisions/phones-in-several-processes.md). A
    server on another machine leaves this one's cores to the phones, so they take every core
    (a 500-device share each at least); one on this machine, embedded or not, shares them.
    """
    chosen = _processes(asked, devices, possible=True)
    if asked is not None or chosen < 2 or server_url is None or _on_this_machine(server_url):
        return chosen
    cores = os.cpu_count() or 1
    return max(chosen, min(cores, devices // DEVICES_PER_PHONE_PROCESS))


def _on_this_machine(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name: it could resolve anywhere, so take it to be elsewhere
        return False


def _processes(asked: int | None, devices: int, *, possible: bool) -> int:
    if asked is not None:
        return asked
    if devices < SECOND_WORKER_FROM or (os.cpu_count() or 1) < 2 or not possible:
        return 1
    return 2


def run_fleet_command(args: argparse.Namespace) -> int:
    started = time.monotonic()
    from .identities import FleetFactory
    from .processes import spread
    from .report import Progress
    from .runner import FleetPlan, run_fleet

    data: Path = args.fleet_data or args.data
    factory_dir: Path = args.fleet_factory or data / "factory"
    if args.fleet_server is not None and not (factory_dir / "intermediate.key").is_file():
        return _fail(f"{factory_dir}: no factory here that the server trusts (--factory)")
    processes = phone_processes(args.processes, args.devices, args.fleet_server)
    try:
        mix = _mix(args)
        fleet_factory = FleetFactory(
            factory_dir,
            data,
            model=mix.model,
            market=mix.market,
            seed=args.fleet_seed,
            use_cache=not args.no_cache,
        )
        data.mkdir(parents=True, exist_ok=True)
    except (FleetError, OSError) as exc:
        return _fail(str(exc))
    run_dir = Path(tempfile.mkdtemp(prefix="fleet-run-", dir=data))
    try:
        # The server starts (its processes load their stack) while this one checks the identity
        # cache: both cores at work instead of one after the other
        # (docs/decisions/fleet-server-starts-during-the-cache-check.md).
        with ThreadPoolExecutor(1, thread_name_prefix="fleet-server-start") as pool:
            starting = pool.submit(_server, args, data, factory_dir, run_dir)
            try:
                # Phones in several processes build their own devices: this one only checks
                # the cache.
                in_one = spread(processes, args.devices, args.concurrency) == 1
                made = fleet_factory.devices(args.devices, build=in_one)
            except BaseException as exc:  # Ctrl-C too: the server is stopped once it is up
                _close_once_up(starting)
                if isinstance(exc, FleetError | OSError):
                    return _fail(str(exc))
                raise
            try:
                server = starting.result()
            except (FleetError, OSError) as exc:
                return _fail(str(exc))
        source = f"{made.from_cache} from the cache, {made.generated} made"
        provisioning = (
            f"{args.devices} devices ({source}) in {made.seconds:.1f} s {made.note}".strip()
        )
        plan = FleetPlan(
            devices=args.devices,
            concurrency=args.concurrency,
            checkins=args.checkins,
            timeout=args.timeout,
            seed=args.fleet_seed,
            processes=processes,
        )
        try:
            report = run_fleet(
                plan,
                made,
                mix,
                server,
                provisioning=provisioning,
                progress=Progress(enabled=False if args.quiet else None),
            )
        except FleetError as exc:  # a phone process failed
            return _fail(str(exc))
        except KeyboardInterrupt:  # Ctrl-C: the phones and the server stop (finally), quietly
            print("phone-sim fleet: interrupted", file=sys.stderr)
            return 130
        finally:
            usage = server.close()
        if usage is not None:
            report.server_peak_rss_kib = usage.peak_rss_kib
            report.server_cpu_seconds = usage.cpu_seconds
            report.server_requests = list(usage.requests)
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
    report.command_seconds = time.monotonic() - started
    for line in report.lines():
        print(line)
    if args.fleet_json is not None:
        args.fleet_json.write_text(json.dumps(report.to_json(), indent=2) + "\n")
    return 1 if report.errors else 0


def _close_once_up(starting: Future[FleetServer]) -> None:
    """Stop a server whose start was under way when the fleet gave up."""
    with suppress(FleetError, OSError):
        starting.result().close()


def _fail(message: str) -> int:
    # One line per problem (a mix file reports all of its problems at once).
    for line in message.splitlines() or [""]:
        print(f"phone-sim fleet: {line}", file=sys.stderr)
    return 2
