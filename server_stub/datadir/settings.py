"""Server settings: one frozen value built by the CLI, the embedded runner or a test."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from phone_sim.protocol.clock import ClockMode, RealTime
from phone_sim.protocol.versions import MAX_REQUEST_SKEW
from server_stub.datadir.clock import SharedClock, open_server_clock, read_clock_record
from server_stub.errors import SettingsError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8421
DEFAULT_VERDICT_TTL = dt.timedelta(days=7)
DEFAULT_NONCE_TTL = dt.timedelta(hours=1)
#: seconds a client has to send a whole request (headers and body), however it trickles in
DEFAULT_REQUEST_TIMEOUT = 10.0
#: connections served at once by one process (fewer if its open-file limit is lower)
DEFAULT_MAX_CONNECTIONS = 1000
#: A signed request stays acceptable while its ``created`` is within the skew either side of
#: the server clock; a nonce must be remembered at least that long or a replay could slip in.
#: Three times the skew leaves room for either reading of the age rule.
MIN_NONCE_TTL = 3 * MAX_REQUEST_SKEW


@dataclass(frozen=True)
class ServerSettings:
    """Where the server keeps its state and what it answers with.

    Attributes:
        data_dir: holds ``vendor.key``, ``vendor.pub``, ``vendor.db``, ``admin.token`` and,
            once an operator has installed one, ``policy.toml`` (the policy in force).
        factory_root: the factory root certificate (PEM) device chains must reach;
            ``None`` means ``data_dir.parent / "factory" / "root.pem"``, where the simulator
            keeps its factory beside the vendor's data.
        policy_path: a policy TOML file to install as the policy in force at start (it is
            copied to ``data_dir/policy.toml``); ``None`` keeps the installed policy, or the
            packaged default if none was ever installed.
        host: interface to bind; loopback unless told otherwise.
        port: TCP port; 0 asks the OS for a free one (the embedded server and tests do).
        verdict_ttl: how long the phone may act on a verdict after it was issued.
        nonce_ttl: how long a request nonce is remembered to refuse replays.
        admin_remote: answer the admin API from other hosts too (default: loopback only).
        clock_mode, clock_start, clock_speed: the world's time, kept in ``clock.json``
            (:mod:`server_stub.datadir.clock`): real or simulated; where simulated time starts
            (a new directory only: one with history resumes it, and refuses an earlier start);
            simulated seconds per real second. All ``None``: the directory's own clock, or real
            time for a new one. Ignored when a clock is passed to the app.
        shared: other server processes serve the same data directory and admin API
            (``vendor-server serve --workers N``): the policy in force is then
            ``policy.toml`` as last installed by any of them, each checked before it is used
            (:mod:`server_stub.datadir.shared`).
        clock_attach: the directory's clock was opened by another process of this server:
            read it as it is (``clock.json``) rather than open it again.
        request_timeout: seconds from a connection's start (or its previous answer) to the last
            byte of its request; a request still arriving then gets 408 and is cut off.
        max_connections: connections one server process holds at once (lowered to what its
            open-file limit allows); past it, the connection that has waited longest for its
            request makes room (``server_stub.runtime.connections``).
    """

    data_dir: Path
    factory_root: Path | None = None
    policy_path: Path | None = None
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    verdict_ttl: dt.timedelta = DEFAULT_VERDICT_TTL
    nonce_ttl: dt.timedelta = DEFAULT_NONCE_TTL
    admin_remote: bool = False
    clock_mode: ClockMode | None = None
    clock_start: float | None = None
    clock_speed: float | None = None
    shared: bool = False
    clock_attach: bool = False
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT
    max_connections: int = DEFAULT_MAX_CONNECTIONS

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise SettingsError(f"port must be 0..65535, got {self.port}")
        if self.verdict_ttl <= dt.timedelta(0):
            raise SettingsError("verdict_ttl must be positive")
        if self.nonce_ttl < MIN_NONCE_TTL:
            raise SettingsError(f"nonce_ttl must be at least {MIN_NONCE_TTL} to refuse replays")
        if not self.request_timeout > 0:
            raise SettingsError(f"request timeout must be > 0 s, got {self.request_timeout}")
        if self.max_connections < 1:
            raise SettingsError(f"max connections must be >= 1, got {self.max_connections}")
        if self.clock_speed is not None and self.clock_speed < 0:
            raise SettingsError(f"clock speed must be >= 0, got {self.clock_speed}")

    def open_clock(self, history: float | None) -> SharedClock | RealTime:
        """The world's clock for a server starting on this directory (see ``clock_*``).

        ``history``: the latest time any record of the store carries.
        """
        if self.clock_attach:
            record = read_clock_record(self.clock_path)
            if record is not None and record.mode is ClockMode.SIMULATED:
                return SharedClock(self.clock_path)
            return RealTime()
        return open_server_clock(
            self.clock_path,
            mode=self.clock_mode,
            start=self.clock_start,
            speed=self.clock_speed,
            history=history,
        )

    @property
    def factory_root_path(self) -> Path:
        if self.factory_root is not None:
            return self.factory_root
        return self.data_dir.parent / "factory" / "root.pem"

    @property
    def db_path(self) -> Path:
        return self.data_dir / "vendor.db"

    @property
    def vendor_key_path(self) -> Path:
        return self.data_dir / "vendor.key"

    @property
    def vendor_public_key_path(self) -> Path:
        return self.data_dir / "vendor.pub"

    @property
    def admin_token_path(self) -> Path:
        return self.data_dir / "admin.token"

    @property
    def installed_policy_path(self) -> Path:
        return self.data_dir / "policy.toml"

    @property
    def clock_path(self) -> Path:
        """The world's clock (:mod:`server_stub.datadir.clock`)."""
        return self.data_dir / "clock.json"
