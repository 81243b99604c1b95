"""The code as it was before issue #6's optimisations, for the before/after benchmark only.

Each ``before_*`` function undoes one optimisation in the process it runs in (the benchmark's
client, or the server's child process through a ``ChildServer`` app hook), so both sides of the
comparison run in the same benchmark run on the same machine.
"""

from __future__ import annotations

import datetime as dt
import socket
import sys
from typing import Any

from http_message_signatures import HTTPMessageSigner, MappingKeyResolver

import phone_sim.protocol.profile as profile
import phone_sim.protocol.signing as signing
import server_stub.runtime.embedded as embedded
import server_stub.store.db as store_module


def _library_sign(
    message: Any,
    algorithm: Any,
    key: Any,
    key_id: str,
    created: int,
    label: str,
    components: tuple[str, ...],
    nonce: str | None = None,
) -> None:
    """The signer before: the library's, which builds the signature base twice."""
    message.headers.pop("Content-Digest", None)
    signer = HTTPMessageSigner(
        signature_algorithm=algorithm,
        key_resolver=MappingKeyResolver(public_keys={}, private_keys={key_id: key}),
    )
    signer.sign(
        message,
        key_id=key_id,
        created=dt.datetime.fromtimestamp(created, tz=dt.UTC),
        nonce=nonce,
        label=label,
        covered_component_ids=components[:-1],
        body=message.body,
    )


def _nagle_socket(host: str, port: int, *, reuse_port: bool = False) -> socket.socket:
    """The listening socket before: proto 0, so asyncio left Nagle on for every connection."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


_SAVED: dict[str, Any] = {}


def before_signatures() -> None:
    """Sign and verify through the library only (this process)."""
    _SAVED.setdefault("sign", signing._sign)
    _SAVED.setdefault("read", profile.read_canonical)
    signing._sign = _library_sign
    profile.read_canonical = _never_canonical


def after_signatures() -> None:
    if _SAVED:
        signing._sign = _SAVED["sign"]
        profile.read_canonical = _SAVED["read"]


def _never_canonical(*_args: object, **_kwargs: object) -> None:
    """Every message to the library (docs/decisions/canonical-form-verified-directly.md)."""


def before_nodelay() -> None:
    embedded.bind_socket = _nagle_socket


def before_stack() -> None:
    """h11 and asyncio's own loop: uvicorn's "auto" falls back when these cannot be imported."""
    sys.modules["httptools"] = None  # type: ignore[assignment]
    sys.modules["uvloop"] = None  # type: ignore[assignment]


def before_group_commit() -> None:
    store_module.MAX_BATCH = 1  # every transaction commits (and fsyncs) on its own


def before_checkpoints(server: Any) -> None:
    """SQLite's automatic checkpoints, inside whichever request fills the WAL."""
    store = server.context.store
    store._checkpointer.close()
    store._db.execute("PRAGMA wal_autocheckpoint = 1000")


def before_chain_cache(server: Any) -> None:
    server.context.trust.verified.size = 0
