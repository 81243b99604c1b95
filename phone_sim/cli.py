"""``phone-sim``: launch the phone (with an embedded vendor server unless ``--server`` is given)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from phone_sim.device.catalogue import MARKETS, MODELS
from phone_sim.device.errors import PhoneError
from phone_sim.device.sims import CARRIERS
from phone_sim.fleet.cli import add_fleet_command, run_fleet_command
from phone_sim.protocol.clock import SimulatedClock
from phone_sim.scenario.cli import add_scenario_commands, run_scenario_command
from server_stub.runtime.pipes import quiet_on_broken_pipe


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="phone-sim",
        description="A MIUI-style phone that activates against a vendor server, and locks when refused.",
    )
    parser.add_argument("--data", type=Path, default=Path(".phone-sim-data"), help="data directory")
    parser.add_argument("--server", help="vendor server URL (default: embedded on 127.0.0.1)")
    parser.add_argument(
        "--vendor-key", type=Path, help="vendor public key PEM the firmware pins (with --server)"
    )
    parser.add_argument(
        "--model", default="Redmi Note 9", choices=sorted(MODELS), help="for a new phone"
    )
    parser.add_argument("--market", default="MI", choices=sorted(MARKETS), help="for a new phone")
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
        "--admin-token-file",
        type=Path,
        help="the vendor's admin token (with --server), for the vendor console",
    )
    parser.add_argument(
        "--speed", type=float, default=1.0, help="simulated seconds per real second"
    )
    parser.add_argument(
        "--start",
        type=float,
        help="simulated start, Unix seconds (default: where the data dir was left, else 1 Sep 2021)",
    )
    parser.add_argument("--seed", type=int, help="seed for simulated serials, IMEIs and nonces")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("catalogue", help="list the phone models, markets and carriers")
    add_scenario_commands(sub)
    add_fleet_command(sub)
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


@quiet_on_broken_pipe
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "catalogue":
        print_catalogue()
        return 0
    if args.command == "scenario":
        return run_scenario_command(args)
    if args.command == "fleet":
        return run_fleet_command(args)
    if args.server and not args.vendor_key:
        print(
            "phone-sim: --server needs --vendor-key (the vendor public key to pin)", file=sys.stderr
        )
        return 2
    admin_token = None
    if args.admin_token_file:
        try:
            admin_token = args.admin_token_file.read_text().strip()
        except OSError as exc:
            print(
                f"phone-sim: cannot read {args.admin_token_file}: {exc.strerror}", file=sys.stderr
            )
            return 2
    # Imported here, as each subcommand's own work is, so that building the parser stays cheap:
    # every process the fleet spawns imports this module again (docs/decisions/lazy-subcommand-imports.md).
    from phone_sim.simulation import STORY_START, PhoneSpec, load_clock, open_simulation

    spec = PhoneSpec(
        model=args.model,
        market=args.market,
        bootloader_unlocked=args.unlocked or args.custom_rom,
        custom_rom=args.custom_rom,
    )
    try:
        sim = open_simulation(
            args.data,
            spec=spec,
            server_url=args.server,
            vendor_key=args.vendor_key,
            clock=SimulatedClock(
                args.start if args.start is not None else load_clock(args.data) or STORY_START,
                speed=args.speed,
            ),
            new_phone=args.new_phone,
            seed=args.seed,
            admin_token=admin_token,
        )
    except PhoneError as exc:
        print(f"phone-sim: {exc}", file=sys.stderr)
        return 2
    from phone_sim.ui.app import make_app  # Textual loads only for the UI

    with sim:
        make_app(sim).run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
