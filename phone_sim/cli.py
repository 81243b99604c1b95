"""``phone-sim``: launch the phone (with an embedded vendor server unless ``--server`` is given)."""

from __future__ import annotations

import argparse
import gc
import sys
from pathlib import Path

from phone_sim.conformance.cli import add_conformance_command, run_conformance_command
from phone_sim.device.catalogue import MARKETS, MODELS
from phone_sim.device.errors import PhoneError
from phone_sim.device.sims import CARRIERS
from phone_sim.factory_cli import add_factory_commands, run_factory_command
from phone_sim.fleet.cli import add_fleet_command, run_fleet_command
from phone_sim.protocol.instants import EXAMPLES, instant_argument
from phone_sim.scenario.cli import add_scenario_commands, run_scenario_command
from phone_sim.web import add_serve_command
from phone_sim.world.errors import LaunchError
from server_stub.runtime.pipes import quiet_on_broken_pipe


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="phone-sim",
        description="A MIUI-style phone that activates against a vendor server, and locks when refused.",
    )
    parser.add_argument("--data", type=Path, default=Path(".phone-sim-data"), help="data directory")
    parser.add_argument(
        "--server",
        help="join the vendor server at this URL (default: one embedded on 127.0.0.1). Its "
        "public key, admin token and factory are taken from DATA/vendor and DATA/factory when "
        "there (the layout `make serve-vendor` writes), else from the options below",
    )
    parser.add_argument(
        "--vendor-key",
        type=Path,
        help="with --server: the vendor public key PEM phones pin (default DATA/vendor/vendor.pub)",
    )
    parser.add_argument(
        "--admin-token-file",
        type=Path,
        help="with --server: the vendor's admin token, for the console and for moving time "
        "(default DATA/vendor/admin.token when present)",
    )
    parser.add_argument(
        "--factory",
        type=Path,
        help="with --server: the factory CA the vendor trusts (default DATA/factory)",
    )
    # None when not given: a phone that already exists is never rebuilt without --new-phone.
    parser.add_argument(
        "--model", choices=sorted(MODELS), help="for a new phone (default Redmi Note 9)"
    )
    parser.add_argument("--market", choices=sorted(MARKETS), help="for a new phone (default MI)")
    parser.add_argument(
        "--unlocked", action="store_true", help="new phone with an unlocked bootloader"
    )
    parser.add_argument(
        "--custom-rom",
        action="store_true",
        help="new phone running a custom ROM (no vendor client)",
    )
    parser.add_argument(
        "--new-phone", action="store_true", help="replace the phone in the data dir"
    )
    parser.add_argument(
        "--phones",
        type=int,
        default=1,
        metavar="N",
        help="how many phones the world starts with (n switches between them; more join from "
        "the command palette); each keeps its own data directory, and a restart brings back "
        "every phone the world has",
    )
    parser.add_argument(
        "--speed",
        type=int,
        help="with the embedded vendor: simulated seconds per real second, a whole number "
        "(default: where the world was left, else 1)",
    )
    parser.add_argument(
        "--start",
        type=instant_argument,
        help=f"a new world's simulated start: {EXAMPLES} (default 1 Sep 2021); a world with "
        "history resumes its own time and refuses an earlier start",
    )
    parser.add_argument("--seed", type=int, help="seed for simulated serials, IMEIs and nonces")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("catalogue", help="list the phone models, markets and carriers")
    add_scenario_commands(sub)
    add_fleet_command(sub)
    add_factory_commands(sub)
    add_serve_command(sub)
    add_conformance_command(sub)
    return parser


def print_catalogue() -> None:
    print("Models (markets):")
    for m in MODELS.values():
        print(f"  {m.name:<18} {', '.join(m.markets):<16} e.g. {m.firmware(m.markets[0])}")
    print("Markets:")
    for mk in MARKETS.values():
        print(f"  {mk.code}  {mk.name}")
    print("Carriers:")
    for c in CARRIERS.values():
        print(f"  {c.name:<14} {c.territory:<12} {c.code}")


def _phone_options_refused(args: argparse.Namespace) -> str | None:
    """Why options that build a phone cannot apply, or None.

    ``--model``, ``--market``, ``--unlocked`` and ``--custom-rom`` describe a phone the factory
    builds. They build the first phone of a data directory; once one exists they would be
    silently ignored, so they are refused unless ``--new-phone`` says to replace it (which
    erases that phone's state, its lock included: never done without being asked).
    """
    given = [
        flag
        for flag, value in (
            ("--model", args.model),
            ("--market", args.market),
            ("--unlocked", args.unlocked),
            ("--custom-rom", args.custom_rom),
        )
        if value
    ]
    if not given or args.new_phone:
        return None
    from phone_sim.device.storage import DeviceStorage

    storage = DeviceStorage(args.data / "phone")
    if not storage.is_provisioned():
        return None  # the first phone of this data directory is built as asked
    try:
        ident = storage.load_identity()
        phone = f"a {ident.model} ({ident.market})"
    except PhoneError:
        phone = "a phone"
    return (
        f"{' and '.join(given)} {'describes' if len(given) == 1 else 'describe'} a new phone, "
        f"but {storage.directory} already holds "
        f"{phone}; add --new-phone to replace it (its state, lock included, is erased)"
    )


@quiet_on_broken_pipe
def main(argv: list[str] | None = None, *, own_process: bool = False) -> int:
    """Run ``phone-sim`` with ``argv`` (default: the command line); the exit status.

    ``own_process``: the process is this command's alone and ends with it (:func:`entry`), so a
    command may change what is process-wide (``scenario run`` freezes the collector's heap once
    its imports are done: docs/decisions/gc-freeze-in-our-own-processes.md). Called from other
    code (the tests), nothing process-wide changes.
    """
    args = build_parser().parse_args(argv)
    if args.command == "catalogue":
        print_catalogue()
        return 0
    if args.command == "scenario":
        return run_scenario_command(args, own_process=own_process)
    if args.command == "fleet":
        return run_fleet_command(args)
    if args.command == "factory":
        return run_factory_command(args)
    if args.command == "conformance":
        return run_conformance_command(args)
    if args.command == "serve":
        from phone_sim.web import run_serve

        return run_serve(args)
    refused = _phone_options_refused(args)
    if refused is not None:
        print(f"phone-sim: {refused}", file=sys.stderr)
        return 2
    # Imported here, as each subcommand's own work is, so that building the parser stays cheap:
    # every process the fleet spawns imports this module again
    # (docs/decisions/lazy-subcommand-imports.md).
    from phone_sim.world.launch import WorldOptions, launch

    options = WorldOptions(
        data=args.data,
        server=args.server,
        vendor_key=args.vendor_key,
        admin_token_file=args.admin_token_file,
        factory=args.factory,
        model=args.model or WorldOptions.model,
        market=args.market or WorldOptions.market,
        unlocked=args.unlocked,
        custom_rom=args.custom_rom,
        new_phone=args.new_phone,
        phones=args.phones,
        speed=args.speed,
        start=args.start,
        seed=args.seed,
        # The app starts the embedded server after its first frame (PhoneApp.on_mount).
        serve_later=True,
    )
    try:
        world = launch(options)
    except LaunchError as exc:
        print(f"phone-sim: {exc}", file=sys.stderr)
        return 2
    from phone_sim.ui.app import make_app  # Textual loads only for the UI

    # What is loaded now (Textual, the world, its phones) lives as long as the process: moved
    # out of the collector's sight, the full collections that the first frame's allocations
    # set off no longer walk it again (docs/decisions/tui-first-frame-imports.md). Only in a
    # process of its own; tests and other hosts of the app keep their collector as it is.
    if own_process:
        gc.freeze()
    with world:
        make_app(world).run()
    return 0


def entry() -> int:
    """``phone-sim`` as a program: its console script and ``python -m phone_sim.cli``.

    The process ends when the command does: its heap is frozen on the way out, so that the
    interpreter's collections at exit do not walk the 90,000 objects of the server's stack and
    our models again (0.2-0.4 s after a ``scenario run``;
    docs/decisions/gc-freeze-in-our-own-processes.md).
    """
    status = main(own_process=True)
    gc.freeze()
    return status


if __name__ == "__main__":
    raise SystemExit(entry())
