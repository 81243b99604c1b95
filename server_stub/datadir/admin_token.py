"""The operator's bearer token: generated on first start, kept 0600 beside the vendor key."""

from __future__ import annotations

import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path

from phone_sim.protocol.files import atomic_write
from server_stub.errors import SettingsError

#: the environment variable clients (admin CLI, fleet, scenarios) read the token from
TOKEN_ENV = "VENDOR_ADMIN_TOKEN"  # noqa: S105 -- the variable's name, not a secret

#: 32 random bytes, URL-safe base64: unguessable, and safe in a header and a shell variable.
TOKEN_BYTES = 32


@dataclass(frozen=True)
class AdminToken:
    value: str = field(repr=False)
    path: Path
    created: bool  # True on the start that generated it: the one time it is printed


def load_or_create_admin_token(path: Path) -> AdminToken:
    """Read the token, creating it (mode 0600) if there is none.

    Raises:
        SettingsError: the file is unreadable, empty, or readable by other users (a token
            others can read is not a secret; like ssh, refuse rather than use it).
    """
    if not path.exists():
        token = secrets.token_urlsafe(TOKEN_BYTES)
        atomic_write(path, (token + "\n").encode(), mode=0o600)
        return AdminToken(token, path, created=True)
    try:
        mode = path.stat().st_mode
        value = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path}: cannot read the admin token: {exc}") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SettingsError(
            f"{path}: the admin token is accessible to other users; run `chmod 600 {path}`"
        )
    if not value:
        raise SettingsError(f"{path}: the admin token file is empty; delete it to get a new one")
    return AdminToken(value, path, created=False)
