"""``phone-sim conformance``: run the kit against a server and print a verdict per case.

Exit status 0 when no case failed, 1 when one did, 2 when the kit could not start (a file it
was pointed at is missing or bad, an unknown ``--case``). docs/CONFORMANCE.md is the reference.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

Output = Callable[[str], object]


def add_conformance_command(sub: Any) -> None:
    kit = sub.add_parser(
        "conformance",
        help="run the conformance kit against an activation server (docs/CONFORMANCE.md)",
        description="Numbered cases from docs/PROTOCOL.md against the server at --server: "
        "PASS, FAIL or SKIP each, with a reason; exit 1 if any failed.",
    )
    # Own dests: the top-level parser's --server, --vendor-key and --factory must not clash.
    kit.add_argument("--server", dest="kit_server", metavar="URL", help="the server's base URL")
    kit.add_argument(
        "--vendor-key", dest="kit_vendor_key", type=Path, metavar="PEM",
        help="the server's Ed25519 public key (the key phones pin)",
    )  # fmt: skip
    kit.add_argument(
        "--factory", dest="kit_factory", type=Path, metavar="DIR",
        help="the factory the server trusts (root.pem, intermediate.pem, intermediate.key)",
    )  # fmt: skip
    kit.add_argument(
        "--device", dest="kit_devices", type=Path, metavar="DIR", action="append", default=[],
        help="an identity from `phone-sim factory issue` (repeat for more devices)",
    )  # fmt: skip
    kit.add_argument(
        "--features", dest="kit_features", type=Path, metavar="TOML",
        help="what the server offers beyond the protocol (docs/CONFORMANCE.md section 3)",
    )  # fmt: skip
    kit.add_argument(
        "--case", dest="kit_cases", metavar="ID", action="append", default=[],
        help="run only this case (repeat for more)",
    )  # fmt: skip
    kit.add_argument("--junit", dest="kit_junit", type=Path, metavar="FILE", help="JUnit XML")
    kit.add_argument("--json", dest="kit_json", type=Path, metavar="FILE", help="JSON report")
    kit.add_argument(
        "--transcript", dest="kit_transcript", type=Path, metavar="FILE",
        help="every exchange, secrets redacted",
    )  # fmt: skip
    kit.add_argument("--list", dest="kit_list", action="store_true", help="list the cases and exit")


def run_conformance_command(args: argparse.Namespace, out: Output = print) -> int:
    # Imported here: building `phone-sim`'s parser stays cheap (phone_sim/cli.py).
    from phone_sim.tomlfile.problems import did_you_mean

    from . import reports
    from .cases import CASES
    from .context import Kit, KitConfig
    from .errors import KitSetupError
    from .runner import CaseResult, Verdict, run_cases
    from .wire import one_line

    if args.kit_list:
        for case in CASES.values():
            out(f"{case.id:<8} {case.group.value:<9} {case.kind.value:<9} {case.title}")
        out(f"({len(CASES)} cases)")
        return 0
    typed, args.kit_cases = args.kit_cases, [case_id(text) for text in args.kit_cases]
    unknown = [t for t, c in zip(typed, args.kit_cases, strict=True) if c not in CASES]
    if unknown:
        hint = did_you_mean(case_id(unknown[0]), CASES)
        return _error(f"no such case: {', '.join(unknown)}{hint} (phone-sim conformance --list)")
    if args.kit_server is None or args.kit_vendor_key is None:
        return _error("--server and --vendor-key are required (or --list)")
    config = KitConfig(
        args.kit_server, args.kit_vendor_key, args.kit_factory, args.kit_devices, args.kit_features
    )
    try:
        kit = Kit.open(config)
    except KitSetupError as exc:
        return _error(str(exc))
    chosen = [CASES[c] for c in args.kit_cases] if args.kit_cases else list(CASES.values())
    header = [
        f"phone-sim conformance kit: {len(chosen)} case{'' if len(chosen) == 1 else 's'} "
        f"against {kit.server.url}",
        f"  clock: {one_line(kit.time.source, 240)}",
        f"  declared: {kit.declared.describe()}",
        f"  devices: {kit.identities.source}",
    ]
    for line in header:
        out(line)

    def show(result: CaseResult) -> None:
        case = result.case
        out(f"{case.id:<8} {result.verdict.value}  {case.title} ({case.where}): {result.reason}")

    run = run_cases(kit, chosen, show)
    out(run.summary())
    if kit.key_doubt is not None and run.failed:
        out(
            f"hint: the server's signed time did not verify with {args.kit_vendor_key} "
            f"({one_line(kit.key_doubt, 200)}): is that this server's public key?"
        )
    redact = reports.Redactor((kit.declared.admin_token or "",))
    about = {
        "server": kit.server.url,
        "clock": kit.time.source,
        "declared": kit.declared.describe(),
    }
    if args.kit_junit is not None:
        reports.write(args.kit_junit, reports.junit_xml(run, redact, kit.server.url))
    if args.kit_json is not None:
        reports.write(args.kit_json, reports.as_json(run, redact, about))
    if args.kit_transcript is not None:
        reports.write(args.kit_transcript, reports.transcript(run, redact, header, kit.setup))
    return 1 if run.count(Verdict.FAIL) else 0


def case_id(text: str) -> str:
    """A case id as typed, in the registry's form: ``acc-3`` and ``ACC3`` are ``ACC-03``."""
    found = re.fullmatch(r"\s*([A-Za-z]+)-?0*(\d+)\s*", text)
    return f"{found[1].upper()}-{int(found[2]):02d}" if found else text.strip().upper()


def _error(message: str) -> int:
    print(f"phone-sim conformance: {message}", file=sys.stderr)
    return 2
