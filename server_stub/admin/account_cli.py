"""``vendor-server admin unblock-code`` and ``admin clear-account`` (docs/OPERATOR.md section 7).

Registered on ``vendor-server admin`` by :func:`add_account_commands`; the output follows the
rest of the admin CLI (a line for people, ``--json`` for scripts).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from pydantic import BaseModel

from phone_sim.protocol.device_secret import group_digits
from server_stub.admin.client import AdminClient


def add_account_commands(sub: Any) -> None:
    """Add the account and unblock-code subcommands to ``admin``'s subparsers."""
    code = sub.add_parser(
        "unblock-code",
        help="the code that unlocks a phone showing CHALLENGE (also releases it)",
        description="Make the unblock code for the challenge a phone's lock screen shows. "
        "It works on that phone, against that challenge, once. The device is released "
        "too (when held or flagged), so it stays unlocked at its next contact.",
    )
    code.add_argument("ident", metavar="SERIAL_OR_IMEI")
    code.add_argument(
        "challenge", metavar="CHALLENGE", help='8 digits, e.g. 12345678 or "1234 5678"'
    )
    code.add_argument("--reason", help="kept with the release (default: unblock code)")
    code.set_defaults(admin=_unblock_code)
    clear = sub.add_parser(
        "clear-account",
        help="unbind a device from its account: its account lock lifts at its next contact",
    )
    clear.add_argument("ident", metavar="SERIAL_OR_IMEI")
    clear.add_argument("--reason", required=True, help="e.g. proof of purchase")
    clear.set_defaults(admin=_clear_account)


def _unblock_code(client: AdminClient, args: argparse.Namespace) -> None:
    answer = client.unblock_code(args.ident, args.challenge, reason=args.reason)
    released = "; released: it stays unlocked at its next contact" if answer.released else ""
    _done(
        args,
        answer,
        f"{answer.serial}: unblock code {group_digits(answer.code)} for challenge "
        f"{group_digits(answer.challenge)} (this phone, this challenge, once){released}",
    )


def _clear_account(client: AdminClient, args: argparse.Namespace) -> None:
    view = client.clear_account(args.ident, reason=args.reason)
    _done(
        args,
        view,
        f"{view.serial or args.ident}: unbound from its account ({args.reason}); "
        "no account lock at its next contact",
    )


def _done(args: argparse.Namespace, model: BaseModel, human: str) -> None:
    """One line for people, or the answer as JSON (as every admin command does)."""
    if args.json:
        print(json.dumps(model.model_dump(mode="json"), indent=2, sort_keys=True))
    else:
        print(human)
