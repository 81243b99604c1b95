"""Nothing lost: the phone's state file and the vendor's database survive being killed mid-write.

* A process saving the phone's state in a tight loop, alternating two states, is SIGKILLed at
  random moments; every time the file loads and is exactly one of the two.
* A corrupt state file is reported with its path, never silently replaced by a fresh phone.
* ``vendor-server serve`` is SIGKILLed during a burst of signed activations; after a restart,
  every verdict a client received is in the store and ``PRAGMA integrity_check`` is ok.
"""

from __future__ import annotations

import datetime as dt
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from phone_sim.cli import main as phone_sim_main
from phone_sim.device.errors import CorruptStateError
from phone_sim.device.state import Activation
from phone_sim.device.storage import DeviceStorage, PersistedState, StoredVerdict
from phone_sim.protocol.identity import Factory
from phone_sim.protocol.imei import make_imei
from phone_sim.protocol.keys import load_vendor_public_key, vendor_key_id
from phone_sim.protocol.messages import Verdict
from phone_sim.protocol.signing import WireResponse, verify_verdict_response
from phone_sim.world.world import open_world
from server_stub.store.db import Store
from tests.support.signed_client import (
    DeviceIdentity,
    post_activation,
    session,
    sim,
)

KILLS = 30

# Two states of very different sizes, so a torn write could not pass for either.
STATE_A = PersistedState(
    activation=Activation.ACTIVATED,
    last_sequence=7,
    reason="ACTIVATION_OK",
    message="Your device has been activated.",
    used_nonces=tuple(f"nonce-a-{i:04d}-xxxxxxxx" for i in range(64)),
)
STATE_B = PersistedState(
    activation=Activation.LOCKED,
    last_sequence=8,
    reason="EMBARGOED_TERRITORY",
    message="Xiaomi policy does not permit sale or provision of the product. " * 12,
    last_verdict=StoredVerdict(200, {"Content-Type": "application/json"}, "{}" + " " * 300_000),
    used_nonces=("nonce-b-only-one-xxxxxx",),
)

# A slow disk: at most 4 KiB per write(2), so a save takes hundreds of system calls and a
# kill lands inside one far more often than between two (atomic_write must loop anyway).
WRITER = """
import os
import sys
from pathlib import Path
from phone_sim.device.storage import DeviceStorage, PersistedState

_write = os.write
os.write = lambda fd, data: _write(fd, bytes(data[:4096]))

storage = DeviceStorage(Path(sys.argv[1]))
a = PersistedState.from_json(Path(sys.argv[2]).read_bytes())
b = PersistedState.from_json(Path(sys.argv[3]).read_bytes())
storage.save_state(a)
print("ready", flush=True)
while True:
    storage.save_state(b)
    storage.save_state(a)
"""


@pytest.mark.slow
def test_killing_the_state_writer_at_any_moment_leaves_the_old_or_the_new_state(
    tmp_path: Path,
) -> None:
    storage = DeviceStorage(tmp_path / "phone")
    (tmp_path / "a.json").write_bytes(STATE_A.to_json())
    (tmp_path / "b.json").write_bytes(STATE_B.to_json())
    rng = random.Random(2021)
    seen = set()
    for _ in range(KILLS):
        writer = subprocess.Popen(
            [
                sys.executable,
                "-c",
                WRITER,
                str(storage.directory),
                *(str(tmp_path / f) for f in ("a.json", "b.json")),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert writer.stdout is not None and writer.stdout.readline() == "ready\n"
            time.sleep(rng.uniform(0.0, 0.05))
        finally:
            writer.send_signal(signal.SIGKILL)
            writer.wait(timeout=10)
        assert writer.returncode == -signal.SIGKILL
        state = storage.load_state()  # raises CorruptStateError on a torn or empty file
        assert state in (STATE_A, STATE_B)
        seen.add(state.last_sequence)
    # Both states were caught on disk at some kill: the kills did land mid-loop.
    assert seen == {7, 8}


@pytest.mark.parametrize(
    "content",
    [b"", b'{"version": 1, "activation": "locked", "last_seq', b"\x00" * 4096, b"[]"],
    ids=["empty", "torn", "zeros", "not an object"],
)
def test_a_corrupt_state_file_is_reported_by_path_and_left_alone(
    tmp_path: Path, content: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    world = tmp_path / "world"
    with open_world(world, seed=1) as opened:  # a provisioned phone, as `make run` leaves it
        opened.add_phone()
    state = world / "phone" / "state.json"
    state.write_bytes(content)

    with pytest.raises(CorruptStateError) as info:
        DeviceStorage(world / "phone").load_state()
    assert info.value.path == state

    # The simulator says so and stops; it does not start a fresh phone over the evidence.
    assert phone_sim_main(["--data", str(world)]) == 2
    err = capsys.readouterr().err
    assert f"device state file {state} is unreadable" in err
    assert state.read_bytes() == content


# --- the vendor's database ----------------------------------------------------------------------

SERVE = "from server_stub.cli import main; raise SystemExit(main())"
CLIENTS = 4


def _verified(public_key_path: Path, response: requests.Response) -> Verdict:
    """What a phone would do with the answer: check the vendor signature, then decode."""
    assert response.status_code == 200, response.text
    public = load_vendor_public_key(public_key_path)
    wire = WireResponse(200, dict(response.headers), response.content)
    now = dt.datetime.now(tz=dt.UTC)
    verify_verdict_response(wire, public_key=public, key_id=vendor_key_id(public), now=now)
    return Verdict.decode(response.content)


def _serve(data: Path, port: int = 0) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE, "serve", "--port", str(port), "--data", str(data)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    assert first.startswith("vendor server listening on "), first
    return process, first.rsplit(" ", 1)[1].strip()


@pytest.mark.slow
def test_killing_the_server_during_a_burst_loses_no_verdict_a_client_received(
    tmp_path: Path,
) -> None:
    factory = Factory.open(tmp_path / "factory")
    data = tmp_path / "vendor"
    devices = [
        DeviceIdentity.issue(
            factory,
            serial=f"RN9S2109{n:04d}",
            imeis=(make_imei("86781204", 2 * n), make_imei("86781204", 2 * n + 1)),
        )
        for n in range(CLIENTS)
    ]
    server, url = _serve(data)
    received: list[tuple[str, int, bytes]] = []  # serial, sequence, the exact verdict bytes
    lock = threading.Lock()
    stop = threading.Event()

    def client(device: DeviceIdentity) -> None:
        http = session()
        for _ in range(400):  # bounded, whatever happens
            if stop.is_set():
                return
            request = device.request([sim("368-01")])
            try:
                response = post_activation(
                    url, device, request, created=int(time.time()), http=http
                )
            except requests.RequestException:
                return  # the server is gone
            if response.status_code == 200:
                verdict = _verified(data / "vendor.pub", response)
                with lock:
                    received.append((device.claims.serial, verdict.sequence, response.content))

    threads = [threading.Thread(target=client, args=(d,)) for d in devices]
    try:
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        while len(received) < 40 and time.monotonic() < deadline:
            time.sleep(0.01)
        server.send_signal(signal.SIGKILL)  # mid-burst: requests are in flight
        server.wait(timeout=10)
    finally:
        stop.set()
        if server.poll() is None:
            server.kill()
        for thread in threads:
            thread.join(timeout=30)
    assert len(received) >= 40, "the burst never got going"

    with sqlite3.connect(data / "vendor.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    restarted, url = _serve(data)
    try:
        # The server comes back and decides on from where it was.
        device = devices[0]
        after = post_activation(
            url, device, device.request([sim("368-01")]), created=int(time.time())
        )
        next_sequence = _verified(data / "vendor.pub", after).sequence
    finally:
        restarted.send_signal(signal.SIGINT)
        restarted.wait(timeout=10)

    with Store(data / "vendor.db") as store:
        assert store.pragma("integrity_check") == "ok"
        for serial, sequence, body in received:
            stored = {row.sequence: row.body for row in store.verdicts(serial)}
            assert stored.get(sequence) == body, f"{serial} verdict #{sequence} was lost"
        ours = [sequence for serial, sequence, _ in received if serial == devices[0].claims.serial]
        assert next_sequence > max(ours, default=0)  # never reissued after the crash
