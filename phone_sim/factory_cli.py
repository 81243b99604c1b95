"""``phone-sim factory issue``: a device identity from a factory, for a client of your own.

A third party writing its own phone needs what the factory burns into ours: a P-256 key and the
certificate chain that certifies it with the device's claims (PROTOCOL.md section 3). This
command issues one from an existing factory directory (the one the vendor server trusts) and
writes it in the formats of section 3, so nothing else of the factory (its intermediate key
above all) has to leave it:

    OUT/device_key.pem      the device's private key, PKCS#8 PEM, mode 0600
    OUT/device_chain.json   {"certificates": [device, intermediate]}: base64 DER, as in a body
    OUT/claims.json         the certified claims, as the certificate's extension holds them
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

from phone_sim.device.catalogue import MARKETS, MODELS

KEY_FILE = "device_key.pem"
CHAIN_FILE = "device_chain.json"
CLAIMS_FILE = "claims.json"


def add_factory_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    factory = sub.add_parser("factory", help="the simulated factory: issue device identities")
    commands = factory.add_subparsers(dest="factory_command", required=True)
    issue = commands.add_parser(
        "issue",
        help="issue a device identity (key, certificate chain, claims) for a client of your own",
        description="Issue a device identity from FACTORY (root.pem, intermediate.pem, "
        "intermediate.key) into OUT: device_key.pem (0600), device_chain.json, claims.json.",
    )
    issue.add_argument(
        "--factory", type=Path, required=True, help="factory directory (e.g. DATA/factory)"
    )
    issue.add_argument(
        "--init-factory",
        action="store_true",
        help="create the simulated factory in FACTORY if there is none yet (as "
        "`vendor-server serve --init-factory` does beside its data directory)",
    )
    issue.add_argument("--out", type=Path, required=True, help="directory to write into")
    issue.add_argument("--model", default="Redmi Note 9", choices=sorted(MODELS))
    issue.add_argument("--market", default="MI", choices=sorted(MARKETS))
    issue.add_argument("--seed", type=int, help="seed for the serial and IMEIs")


def run_factory_command(args: argparse.Namespace) -> int:
    """Issue and write the identity; print what was written. 2 on a usage error."""
    # Imported here: building the parser stays cheap (phone_sim/cli.py says why).
    from cryptography.hazmat.primitives.asymmetric import ec

    from phone_sim.device.errors import PhoneError
    from phone_sim.device.provisioning import new_identity
    from phone_sim.protocol.files import atomic_write
    from phone_sim.protocol.identity import Factory, chain_to_wire
    from phone_sim.protocol.keys import write_private_key

    if args.init_factory and not (args.factory / "root.pem").exists():
        Factory.open(args.factory)
    if not (args.factory / "root.pem").is_file():
        print(
            f"phone-sim factory issue: no factory in {args.factory} (root.pem missing); "
            "`--init-factory` (or `vendor-server serve --init-factory`) makes one",
            file=sys.stderr,
        )
        return 2
    taken = [name for name in (KEY_FILE, CHAIN_FILE, CLAIMS_FILE) if (args.out / name).exists()]
    if taken:
        print(
            f"phone-sim factory issue: {args.out} already holds {', '.join(taken)}; "
            "choose an empty directory",
            file=sys.stderr,
        )
        return 2
    rng = random.Random(args.seed)  # noqa: S311 - serials and IMEIs are simulated
    try:
        factory = Factory.open(args.factory)
        identity = new_identity(args.model, args.market, bootloader_unlocked=False, rng=rng)
    except (PhoneError, OSError, ValueError) as exc:
        print(f"phone-sim factory issue: {exc}", file=sys.stderr)
        return 2
    key = ec.generate_private_key(ec.SECP256R1())
    chain = factory.issue(identity.claims, key.public_key())
    args.out.mkdir(parents=True, exist_ok=True)
    write_private_key(args.out / KEY_FILE, key)
    chain_json = json.dumps({"certificates": chain_to_wire(chain)}, indent=2) + "\n"
    atomic_write(args.out / CHAIN_FILE, chain_json.encode(), mode=0o644)
    atomic_write(args.out / CLAIMS_FILE, identity.claims.to_json() + b"\n", mode=0o644)
    print(f"issued {identity.model} ({identity.market}), serial {identity.serial}")
    print(f"  imeis     {' '.join(identity.imeis)}")
    print(f"  firmware  {identity.firmware} (not certified: report it as device.firmware)")
    for name in (KEY_FILE, CHAIN_FILE, CLAIMS_FILE):
        print(f"  {args.out / name}")
    return 0
