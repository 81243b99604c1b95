"""Benchmark 2: activations per second under concurrent load, beside the no-op route.

With ``wrk`` on the PATH (Debian: ``apt-get install wrk``) the load is wrk's, from pre-signed
requests: every request is a different device's first activation (nonces are single-use, so
each request can be sent once), cycled by ``wrk_activation.lua``. Without wrk, a Python load
generator (``loadgen.py``) sends the same pre-signed bytes from two processes. Either way the
server is the real one in its own process, and the no-op route is loaded the same way, in the
same run. Target: activation rate at least 50 % of the no-op rate.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from phone_sim.fleet.server import ChildServer, can_share_port
from phone_sim.protocol.contact import ACTIVATION_PATH
from phone_sim.protocol.signing import JSON, WireRequest, sign_request

from . import loadgen
from .common import BENCH_DATA, Target, bench_server, kits, new_phone, noop_body, report
from .floor import budget_rows, crypto_floor
from .noop import NOOP_PATH

LUA = Path(__file__).with_name("wrk_activation.lua")
CONNECTIONS = 16
#: pre-signed requests per second of load: well above what the server answers, one process or
#: two (1,200 ran out at 1,198 activations a second with two once a contact's checks ran
#: outside its batch, and the requests wrk sent again were refused as replays:
#: docs/decisions/contact-checks-outside-the-batch.md)
POOL_PER_SECOND = 2400
#: a pre-signed activation: path, headers, body
Signed = tuple[str, dict[str, str], bytes]


def signed_activations(server: Target, count: int) -> list[Signed]:
    """``count`` first activations of new devices, signed at the server's time."""
    url = server.url + ACTIVATION_PATH
    requests = []
    for kit in kits(count):
        phone = new_phone(kit, server)
        attempt = phone.begin_activation()
        wire = WireRequest("POST", url, {"Content-Type": JSON}, attempt.request.encode())
        sign_request(
            wire,
            key=kit.key,
            key_id=kit.identity.serial,
            created=int(server.clock.now()),
            nonce=attempt.nonce,
        )
        requests.append((ACTIVATION_PATH, wire.headers, wire.body))
    return requests


def uses_wrk(seconds: float) -> bool:
    """Whether a load of ``seconds`` goes through wrk: when it is installed and the load is a
    second or more (wrk counts whole seconds; a shorter load, as a smoke run's, goes through
    the Python generator, so a smoke run exercises both)."""
    return seconds >= 1 and shutil.which("wrk") is not None


def load_seconds(seconds: float) -> float:
    """How long a load of ``seconds`` lasts: wrk counts whole seconds, the Python one not."""
    return max(1, math.ceil(seconds)) if uses_wrk(seconds) else seconds


def pool_size(seconds: float) -> int:
    """Pre-signed activations enough for a load of ``seconds``."""
    return math.ceil(POOL_PER_SECOND * load_seconds(seconds))


def _wrk(url: str, script: Path, seconds: float, *script_args: str) -> dict[str, float]:
    duration = f"-d{load_seconds(seconds):.0f}s"
    command = ["wrk", "-t1", f"-c{CONNECTIONS}", duration, "--latency", "-s", str(script)]
    out = subprocess.run(
        [*command, url, "--", *script_args], capture_output=True, text=True, check=True
    ).stdout
    match = re.search(r"^BENCH (.*)$", out, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"wrk printed no figures:\n{out}")
    return {k: float(v) for k, v in (item.split("=") for item in match.group(1).split())}


def server_cpu(server: Target) -> float:
    """CPU seconds the server's processes have used (Linux ``/proc``; NaN elsewhere)."""
    total = 0.0
    for pid in server.pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return float("nan")
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _loaded(run: Callable[[], dict[str, float]], server: Target) -> dict[str, float]:
    """``run``'s figures, with the server's CPU time per answered request."""
    before = server_cpu(server)
    figures = run()
    used = server_cpu(server) - before
    figures["cpu_us"] = used / figures["ok"] * 1e6 if figures["ok"] else float("nan")
    return figures


def load_tool(seconds: float) -> str:
    if uses_wrk(seconds):
        return f"wrk, 1 thread, {CONNECTIONS} connections, {load_seconds(seconds):g} s each"
    why = "no wrk found" if shutil.which("wrk") is None else "wrk loads whole seconds"
    return f"Python load generator ({why}), {CONNECTIONS} connections, {seconds:g} s each"


def activations_under_load(
    server: Target, signed: list[Signed], seconds: float
) -> dict[str, float]:
    """The pre-signed ``signed`` sent for ``seconds``, each once, 16 at a time; the figures."""
    if uses_wrk(seconds):
        with tempfile.TemporaryDirectory(dir=BENCH_DATA) as tmp:
            pool = Path(tmp) / "requests.txt"
            with pool.open("w", encoding="utf-8") as f:
                for path, headers, raw in signed:
                    f.write(f"{path}\n{headers['Signature-Input']}\n{headers['Signature']}\n")
                    f.write(f"{headers['Content-Digest']}\n{raw.decode()}\n")
            return _loaded(lambda: _wrk(server.url, LUA, seconds, str(pool), "activation"), server)
    host, port = _address(server)
    requests = [loadgen.raw_request(p, h, b, f"{host}:{port}") for p, h, b in signed]
    return _loaded(lambda: loadgen.blast(host, port, requests, CONNECTIONS, seconds), server)


def _noop_under_load(server: Target, body: bytes, seconds: float) -> dict[str, float]:
    if uses_wrk(seconds):
        with tempfile.TemporaryDirectory(dir=BENCH_DATA) as tmp:
            noop_file = Path(tmp) / "noop.txt"
            noop_file.write_text(f"{NOOP_PATH}\n-\n-\n-\n{body.decode()}\n", encoding="utf-8")
            return _loaded(lambda: _wrk(server.url, LUA, seconds, str(noop_file), "noop"), server)
    host, port = _address(server)
    noop_raw = loadgen.raw_request(NOOP_PATH, {"Content-Type": JSON}, body, f"{host}:{port}")
    return _loaded(
        lambda: loadgen.blast(host, port, [noop_raw], CONNECTIONS, seconds, cycle=True), server
    )


def _address(server: Target) -> tuple[str, int]:
    parts = urlsplit(server.url)
    return parts.hostname or "127.0.0.1", parts.port or 80


def measure(server: ChildServer, seconds: float) -> tuple[dict[str, float], dict[str, float], str]:
    """Activations, then the no-op, each loaded for ``seconds``; and what loaded them."""
    signed = signed_activations(server, pool_size(seconds))
    body = noop_body(kits(1)[0], server)
    activation = activations_under_load(server, signed, seconds)
    return activation, _noop_under_load(server, body, seconds), load_tool(seconds)


def run(seconds: float = 10, calls: int = 2000) -> dict[str, float]:
    figures: dict[str, float] = dict(floor := crypto_floor(calls))
    # One server process, then two (as the fleet's from 1,000 devices): both routes gain from
    # the second process, so the ratio is the activation's own cost either way.
    for workers in (1, 2) if can_share_port() else (1,):
        with bench_server(workers=workers) as server:
            activation, noop, tool = measure(server, seconds)
        act_rate = activation["ok"] / activation["seconds"]
        noop_rate = noop["ok"] / noop["seconds"]
        ratio = act_rate / noop_rate if noop_rate else 0.0
        problems = int(activation["other"] + activation["errors"] + activation.get("ran_out", 0))
        processes = "one server process" if workers == 1 else f"{workers} server processes"
        report(
            f"2. server throughput under concurrent load, {processes}",
            [
                ("load", tool),
                ("activations", _rate(act_rate, activation)),
                ("no-op, same stack", _rate(noop_rate, noop)),
                (
                    "activation / no-op rate",
                    f"{ratio:.2f} (issue #6's 0.50, replaced by CPU <= 4x)",
                ),
                (
                    "server CPU per request",
                    f"activation {activation['cpu_us']:.0f} us, no-op {noop['cpu_us']:.0f} us "
                    f"({_times(activation['cpu_us'], noop['cpu_us'])}; target <= 4x, floor "
                    f"no-op + crypto {_times(noop['cpu_us'] + sum(floor.values()), noop['cpu_us'])})",
                ),
                ("refused or failed", f"{problems} of {int(activation['ok']) + problems}"),
                *budget_rows(floor, noop["cpu_us"]),
            ],
        )
        suffix = "" if workers == 1 else f"_{workers}_workers"
        figures |= {
            f"activations_per_s{suffix}": act_rate,
            f"noop_per_s{suffix}": noop_rate,
            f"ratio{suffix}": ratio,
            f"activation_cpu_us{suffix}": activation["cpu_us"],
            f"noop_cpu_us{suffix}": noop["cpu_us"],
        }
    return figures


def _times(a: float, b: float) -> str:
    # The CPU time is read in clock ticks (10 ms): a short load can show none.
    return f"{a / b:.1f}x" if b > 0 else "no CPU time measured for the no-op"


def _rate(rate: float, figures: dict[str, float]) -> str:
    return f"{rate:.0f}/s (p50 {figures['p50']:.1f} ms, p99 {figures['p99']:.1f} ms)"
