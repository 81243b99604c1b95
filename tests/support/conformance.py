"""Servers for the conformance kit's tests: ours (declaring every feature) and the minimal one.

Each is started once per test module (the kit's runs are what take time, not the servers).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ed25519

from phone_sim.conformance.context import Kit, KitConfig
from phone_sim.protocol.clock import STORY_START, FixedClock
from phone_sim.protocol.identity import Factory
from phone_sim.protocol.keys import public_key_pem
from server_stub.datadir.settings import ServerSettings
from server_stub.runtime.embedded import EmbeddedVendorServer
from tests.support.broken_server import BrokenServer
from tests.support.minimal_server import MinimalServer

#: what our server declares: the story's policy, every admin feature and version 2's accounts
OUR_FEATURES = """\
policy = "story"
features = ["admin-clock", "admin-policy", "admin-devices", "accounts"]
admin_token_file = "vendor/admin.token"
"""


@dataclass(frozen=True)
class Target:
    """A server under test and what the kit needs to be pointed at it."""

    url: str
    vendor_key: Path
    factory: Path
    features: Path | None = None

    def config(self, **changes: object) -> KitConfig:
        options: dict[str, object] = {
            "server": self.url,
            "vendor_key": self.vendor_key,
            "factory": self.factory,
            "features": self.features,
        } | changes
        return KitConfig(**options)  # type: ignore[arg-type]

    def kit(self, **changes: object) -> Kit:
        return Kit.open(self.config(**changes))


@contextmanager
def our_server(base: Path) -> Iterator[tuple[EmbeddedVendorServer, Target]]:
    """Our vendor server, its clock standing at the story's start, its features declared."""
    Factory.open(base / "factory")
    settings = ServerSettings(
        data_dir=base / "vendor", factory_root=base / "factory" / "root.pem", port=0
    )
    with EmbeddedVendorServer(settings, clock=FixedClock(STORY_START)) as server:
        features = base / "conformance.toml"
        features.write_text(OUR_FEATURES, encoding="utf-8")
        yield server, Target(server.url, server.vendor_public_key_path, base / "factory", features)


@contextmanager
def minimal_server(
    base: Path, kind: type[MinimalServer] = MinimalServer
) -> Iterator[tuple[MinimalServer, Target]]:
    """The minimal server (or a :class:`BrokenServer`), its clock standing at the story's start."""
    factory = Factory.open(base / "factory")
    key = ed25519.Ed25519PrivateKey.generate()
    (base / "vendor.pub").write_bytes(public_key_pem(key.public_key()))
    server = kind(factory.root_cert, key, lambda: int(STORY_START)).start()
    try:
        yield server, Target(server.url, base / "vendor.pub", base / "factory")
    finally:
        server.stop()


__all__ = ["BrokenServer", "MinimalServer", "Target", "minimal_server", "our_server"]
