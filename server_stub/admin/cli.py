"""``vendor-server admin ...``: the operator's commands over the admin API (:class:`AdminClient`).

Human output by default (aligned tables, UTC times), ``--json`` for scripts (audit entries as
JSON Lines, one per line, so a followed tail can be piped). An error answer or an unreachable
server is one line on stderr and exit status 1.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from server_stub.admin.client import (
    DEFAULT_URL,
    AdminClient,
    AdminClientError,
    read_token_file,
    token_from_env,
)
from server_stub.admin.models import AuditEntry, DeviceDetail, DeviceView
from server_stub.datadir.admin_token import TOKEN_ENV

EXIT_OK = 0
EXIT_FAILED = 1
#: Where `make serve-vendor` keeps the server's data: the token is looked for here last.
DEFAULT_TOKEN_FILE = Path(".phone-sim-data/standalone/vendor/admin.token")  # make serve-vendor's
_DURATION = re.compile(r"(\d+)([dhms])")
_UNITS = {"d": 86_400, "h": 3_600, "m": 60, "s": 1}


def parse_duration(text: str) -> int:
    """``"3d"``, ``"12h"``, ``"90m"``, ``"1d12h"`` -> seconds."""
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration like 3d, 12h, 90m or 1d12h")
    seconds = sum(int(n) * _UNITS[u] for n, u in parts)
    if seconds <= 0:
        raise argparse.ArgumentTypeError("the duration must be positive")
    return seconds


def add_admin_parser(commands: Any) -> None:
    """Register ``admin`` and its subcommands on the top-level subparsers."""
    admin = commands.add_parser("admin", help="operate a running vendor server (admin API)")
    admin.add_argument("--url", default=DEFAULT_URL, help=f"server URL (default {DEFAULT_URL})")
    admin.add_argument(
        "--token-file",
        type=Path,
        help=f"file with the admin token (default: ${TOKEN_ENV}, then {DEFAULT_TOKEN_FILE})",
    )
    admin.add_argument("--json", action="store_true", help="machine-readable output")
    sub = admin.add_subparsers(dest="admin_command", required=True)

    sub.add_parser("list", help="list devices").set_defaults(admin=_list)
    show = sub.add_parser("show", help="show one device")
    show.add_argument("ident", metavar="SERIAL_OR_IMEI")
    show.set_defaults(admin=_show)
    lock = sub.add_parser("lock", help="hold a device: locked at its next check-in")
    lock.add_argument("ident", metavar="SERIAL_OR_IMEI")
    lock.add_argument("--reason", required=True, help="e.g. investigation")
    lock.add_argument("--message", help="lock screen text (default: the policy's)")
    lock.set_defaults(admin=_lock)
    release = sub.add_parser("release", help="release a device at its next check-in")
    release.add_argument("ident", metavar="SERIAL_OR_IMEI")
    release.add_argument("--reason", required=True, help="reason code, e.g. cleared")
    release.set_defaults(admin=_release)
    release_all = sub.add_parser("release-all", help="release every held, flagged or locked device")
    release_all.add_argument("--reason", required=True)
    release_all.set_defaults(admin=_release_all)

    # A group named alone does what its first subcommand does (`admin clock` is `clock show`),
    # as `git remote` lists: the question an operator asks most.
    policy = sub.add_parser(
        "policy",
        help="the policy in force (alone: show)",
        description="Without a subcommand: show.",
    )
    policy.set_defaults(admin=_policy_show)
    policy_sub = policy.add_subparsers(dest="policy_command", metavar="{show,set}")
    policy_sub.add_parser("show", help="print the policy TOML").set_defaults(admin=_policy_show)
    policy_set = policy_sub.add_parser("set", help="validate and install a policy file")
    policy_set.add_argument("file", type=Path)
    policy_set.set_defaults(admin=_policy_set)

    audit = sub.add_parser(
        "audit", help="the audit log (alone: tail)", description="Without a subcommand: tail."
    )
    audit.set_defaults(admin=_audit_tail)
    _tail_options(audit, defaults=True)
    audit_sub = audit.add_subparsers(dest="audit_command", metavar="{tail}")
    tail = audit_sub.add_parser("tail", help="the newest entries")
    # No defaults here: an option given before `tail` (`audit -n 3 tail`) must not be reset.
    _tail_options(tail, defaults=False)
    tail.set_defaults(admin=_audit_tail)

    clock = sub.add_parser(
        "clock", help="the server's clock (alone: show)", description="Without a subcommand: show."
    )
    clock.set_defaults(admin=_clock_show)
    clock_sub = clock.add_subparsers(dest="clock_command", metavar="{show,advance}")
    clock_sub.add_parser("show", help="print the clock").set_defaults(admin=_clock_show)
    advance = clock_sub.add_parser("advance", help="move a simulated clock forward")
    advance.add_argument("duration", type=parse_duration, help="e.g. 3d, 12h, 90m")
    advance.set_defaults(admin=_clock_advance)
    admin.set_defaults(handler=run_admin)


def _tail_options(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    """``-n``, ``--follow``: on ``audit`` (with the defaults) and on ``audit tail`` (without)."""

    def default(value: object) -> object:
        return value if defaults else argparse.SUPPRESS

    parser.add_argument("-n", type=int, default=default(20), help="how many (default 20)")
    parser.add_argument(
        "--follow", "-f", action="store_true", default=default(False),
        help="keep printing new entries",
    )  # fmt: skip
    parser.add_argument("--interval", type=float, default=default(1.0), help=argparse.SUPPRESS)


def run_admin(args: argparse.Namespace) -> int:
    try:
        token = _token(args.token_file)
        with AdminClient(args.url, token) as client:
            handler: Callable[[AdminClient, argparse.Namespace], None] = args.admin
            handler(client, args)
    except AdminClientError as exc:
        # One line per problem: a refused policy says everything wrong with it at once.
        for line in str(exc).splitlines() or [""]:
            print(f"vendor-server admin: {line}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:  # the way out of `audit tail --follow`
        return EXIT_OK
    return EXIT_OK


def _token(path: Path | None) -> str:
    if path is not None:
        return read_token_file(path)
    token = token_from_env()
    if token is not None:
        return token
    if DEFAULT_TOKEN_FILE.exists():
        return read_token_file(DEFAULT_TOKEN_FILE)
    raise AdminClientError(
        f"no admin token: pass --token-file DATA/admin.token or set {TOKEN_ENV} "
        "(the server printed it on its first start and keeps it in its data directory)"
    )


# --- commands ---------------------------------------------------------------------------------


def _list(client: AdminClient, args: argparse.Namespace) -> None:
    devices = client.devices()
    if args.json:
        _print_json([d.model_dump(mode="json") for d in devices])
        return
    if not devices:
        print("no devices yet")
        return
    header = ["SERIAL", "IMEI", "MODEL", "MARKET", "STATE", "REASON", "TERRITORY", "LAST CONTACT"]
    rows = [[*header, "LOCK DUE"]]
    rows += [_device_row(d) for d in devices]
    print(table(rows))


def _device_row(d: DeviceView) -> list[str]:
    return [
        d.serial or "-",
        d.imeis[0] if d.imeis else "-",
        d.model or "-",
        d.market or "-",
        d.state,
        d.reason or "-",
        d.activation_territory or d.activation_network or "-",
        when(d.last_contact),
        when(d.lock_due_at),
    ]


def _show(client: AdminClient, args: argparse.Namespace) -> None:
    device = client.device(args.ident)
    if args.json:
        _print_json(device.model_dump(mode="json"))
        return
    print(describe(device))


def describe(d: DeviceDetail) -> str:
    lines = [
        f"serial:          {d.serial or '-'}",
        f"IMEIs:           {', '.join(d.imeis) or '-'}",
        f"model, market:   {d.model or '-'}, {d.market or '-'}",
        f"state:           {d.state}",
        f"last verdict:    {d.status or '-'} {d.reason or ''}".rstrip(),
        f"activated:       {when(d.activated_at)} with "
        + (", ".join(f"slot {s.slot} {s.home}" for s in d.activation_sims) or "no SIM"),
        f"territory:       {d.activation_territory or '-'}",
        f"last contact:    {when(d.last_contact)} with "
        + (", ".join(f"slot {s.slot} {s.home}" for s in d.last_sims) or "no SIM"),
        f"lock due:        {when(d.lock_due_at)}",
    ]
    if d.hold is not None:
        lines.append(f"hold:            {d.hold.reason} since {when(d.hold.at)}")
    if d.release is not None:
        lines.append(f"released:        {d.release.reason} at {when(d.release.at)}")
    if d.pardoned:
        lines.append(f"pardoned:        {', '.join(d.pardoned)}")
    if d.flags:
        lines += ["", "flags:"]
        rows = [["SOURCE", "TERRITORY", "NETWORK", "SLOT", "SINCE", "ENFORCED"]]
        rows += [
            [f.source, f.territory, f.network, str(f.slot), when(f.since), when(f.enforced_at)]
            for f in d.flags
        ]
        lines.append(table(rows, indent=2))
    if d.verdicts:
        lines += ["", "verdicts:"]
        rows = [["SEQ", "ISSUED", "STATUS", "REASON", "POLICY"]]
        rows += [
            [str(v.sequence), when(v.issued_at), v.status, v.reason, v.policy_version]
            for v in d.verdicts
        ]
        lines.append(table(rows, indent=2))
    return "\n".join(lines)


def _lock(client: AdminClient, args: argparse.Namespace) -> None:
    view = client.lock(args.ident, reason=args.reason, message=args.message)
    _done(args, view, f"{_name(view)}: held ({args.reason}); locked at its next contact")


def _release(client: AdminClient, args: argparse.Namespace) -> None:
    view = client.release(args.ident, reason=args.reason)
    _done(args, view, f"{_name(view)}: released ({args.reason}); unlocked at its next contact")


def _release_all(client: AdminClient, args: argparse.Namespace) -> None:
    result = client.release_all(reason=args.reason)
    count = len(result.released)
    human = f"released {count} device{'' if count == 1 else 's'}"
    if result.released:
        human += ": " + ", ".join(result.released)
    _done(args, result, human)


def _policy_show(client: AdminClient, args: argparse.Namespace) -> None:
    policy = client.policy()
    if args.json:
        _print_json(policy.model_dump(mode="json"))
    else:
        sys.stdout.write(policy.text if policy.text.endswith("\n") else policy.text + "\n")


def _policy_set(client: AdminClient, args: argparse.Namespace) -> None:
    try:
        text = args.file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AdminClientError(f"{args.file}: cannot read: {exc}") from exc
    result = client.set_policy(text)
    _done(args, result, f"policy {result.version} in force (was {result.previous_version})")


def _audit_tail(client: AdminClient, args: argparse.Namespace) -> None:
    page = client.audit(limit=max(1, min(args.n, 1000)))
    for item in page.entries:
        _print_entry(item, as_json=args.json)
    last = page.last_id
    while args.follow:
        time.sleep(args.interval)
        page = client.audit(after_id=last, limit=1000)
        for item in page.entries:
            _print_entry(item, as_json=args.json)
        last = page.last_id


def _print_entry(item: AuditEntry, *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(item.model_dump(mode="json"), sort_keys=True), flush=True)
        return
    outcome = f"{item.status or ''} {item.reason or ''}".strip() or "-"
    who = item.serial or item.imei or "-"
    print(
        f"#{item.id:<5} {when(item.at)}  {item.kind:<12} {who:<16} {outcome:<30} "
        f"{item.rule:<24} [{item.policy_version}] {item.actor}",
        flush=True,
    )


def _clock_show(client: AdminClient, args: argparse.Namespace) -> None:
    view = client.clock()
    kind = f"simulated, speed {view.speed:g}" if view.simulated else "real time"
    _done(args, view, f"{when(view.now)} ({kind})")


def _clock_advance(client: AdminClient, args: argparse.Namespace) -> None:
    view = client.advance_clock(args.duration)
    _done(args, view, f"clock advanced to {when(view.now)}")


# --- output -----------------------------------------------------------------------------------


def table(rows: Sequence[Sequence[str]], *, indent: int = 0) -> str:
    """Left-aligned columns two spaces apart, trailing spaces trimmed."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    pad = " " * indent
    return "\n".join(
        pad + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def when(at: int | None) -> str:
    if at is None:
        return "-"
    return dt.datetime.fromtimestamp(at, tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _name(view: DeviceView) -> str:
    return view.serial or (view.imeis[0] if view.imeis else "?")


def _done(args: argparse.Namespace, model: BaseModel, human: str) -> None:
    if args.json:
        _print_json(model.model_dump(mode="json"))
    else:
        print(human)


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, sort_keys=True))
