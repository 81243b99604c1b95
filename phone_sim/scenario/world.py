"""Where a scenario's phone lives: a new Simulation on a fixed clock, with an embedded vendor
server or against one given by URL (``--server``)."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable
from pathlib import Path

from phone_sim.protocol.clock import FixedClock
from phone_sim.simulation import STORY_START, PhoneSpec, Simulation, open_simulation
from server_stub.admin.client import AdminClient, AdminClientError

from .model import DeviceSpec

#: where the scenario's policy is written for the embedded server to install at start
POLICY_FILE = "scenario-policy.toml"


@dataclasses.dataclass(frozen=True)
class RemoteServer:
    """A vendor server the driver does not run (``--server``): where it is and what it trusts."""

    url: str
    vendor_key: Path
    factory_dir: Path
    admin_token: str | None = None


class MirroredClock(FixedClock):
    """The phone's clock; advancing it moves a remote server's simulated clock along."""

    def __init__(self, start: float, mirror: Callable[[int], object]) -> None:
        super().__init__(start)
        self._mirror = mirror
        self._sent = start

    def advance(self, seconds: float) -> float:
        now = super().advance(seconds)
        whole = int(now - self._sent)  # the admin API moves whole seconds
        if whole > 0:
            self._mirror(whole)
            self._sent += whole
        return now


def open_world(
    data_dir: Path,
    device: DeviceSpec,
    *,
    policy_text: str | None,
    seed: int,
    start: float | None,
    server: RemoteServer | None,
) -> Simulation:
    """A new phone (off) in ``data_dir``, on an embedded server unless ``server`` is given.

    The embedded server installs ``policy_text`` at start; a remote one gets it from the
    driver through the admin API.
    """
    spec = PhoneSpec(device.model, device.market, device.bootloader_unlocked, device.custom_rom)
    data_dir.mkdir(parents=True, exist_ok=True)
    if server is not None:
        return _open_remote(data_dir, spec, server, seed=seed, start=start)
    policy_path = None
    if policy_text is not None:
        policy_path = data_dir / POLICY_FILE
        policy_path.write_text(policy_text, encoding="utf-8")
    return open_simulation(
        data_dir,
        spec=spec,
        clock=FixedClock(STORY_START if start is None else start),
        seed=seed,
        new_phone=True,
        policy_path=policy_path,
    )


def _open_remote(
    data_dir: Path, spec: PhoneSpec, server: RemoteServer, *, seed: int, start: float | None
) -> Simulation:
    """A phone from the factory ``server`` trusts, on a clock that moves the server's too."""
    factory = data_dir / "factory"
    if not factory.exists():
        shutil.copytree(server.factory_dir, factory)
    admin = AdminClient(server.url, server.admin_token) if server.admin_token else None

    def mirror(seconds: int) -> object:
        if admin is None:
            raise AdminClientError("advancing time on --server needs the admin token")
        return admin.advance_clock(seconds)

    # The server's clock rules: a phone ahead of it or behind would sign stale requests.
    now = admin.clock().now if admin is not None else (STORY_START if start is None else start)
    return open_simulation(
        data_dir,
        spec=spec,
        server_url=server.url,
        vendor_key=server.vendor_key,
        clock=MirroredClock(float(now), mirror),
        seed=seed,
        new_phone=True,
        admin_token=server.admin_token,
    )
