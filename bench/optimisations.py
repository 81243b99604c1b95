"""Before and after, in one run: each optimisation of issue #6 undone, then all of them.

For each configuration a fresh server runs in its own process with the optimisation undone
there (``bench/legacy.py`` through an app hook; the client side too where it has a part), and
the same measurements are taken: the activation and check-in round trips one at a time, and
activations per second under load (as benchmark 2). The servers start side by side and are
measured one after another.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial

from phone_sim.fleet.server import ChildServer
from phone_sim.protocol.chain_cache import VerifiedChains
from phone_sim.protocol.clock import STORY_START
from phone_sim.protocol.identity import FactoryTrust, chain_from_wire
from phone_sim.protocol.signing import (
    JSON,
    MAX_REQUEST_SKEW,
    REQUEST_SHAPE,
    WireRequest,
    _verify,
    sign_request,
)

from . import legacy, throughput
from .common import (
    BENCH_DATA,
    Latencies,
    bench_servers,
    kits,
    new_phone,
    per_call_us,
    report,
    round_trip,
    session,
)

#: name, server hook, whether the client signs and verifies through the library too
CONFIGS = [
    ("before: all undone", "bench.noop:install_before_all", True),
    ("after: all in place", "bench.noop:install", False),
    ("undone: TCP_NODELAY", "bench.noop:install_before_nodelay", False),
    ("undone: signature fast path", "bench.noop:install_before_signatures", True),
    ("undone: httptools + uvloop", "bench.noop:install_before_stack", False),
    ("undone: group commit", "bench.noop:install_before_group_commit", False),
    ("undone: chain cache", "bench.noop:install_before_chain_cache", False),
]


def _one(
    server: ChildServer, library_client: bool, requests_: int, seconds: float
) -> tuple[float, float, float]:
    devices = kits(requests_)
    if library_client:
        legacy.before_signatures()
    try:
        http = session()
        phones = [new_phone(kit, server) for kit in devices]
        round_trip(phones[0], devices[0], server, http)  # warm-up
        pairs = list(zip(phones[1:], devices[1:], strict=True))
        activation = Latencies([round_trip(p, k, server, http) for p, k in pairs], 0.0)
        for phone, _ in pairs:
            phone.retry()
        checkin = Latencies([round_trip(p, k, server, http) for p, k in pairs], 0.0)
        signed = throughput.signed_activations(server, throughput.pool_size(seconds))
        load = throughput.activations_under_load(server, signed, seconds)
    finally:
        legacy.after_signatures()
    return activation.q(0.5), checkin.q(0.5), load["ok"] / load["seconds"]


def run(requests_: int = 200, seconds: float = 5, *, calls: int = 500) -> dict[str, list[float]]:
    rows = []
    figures: dict[str, list[float]] = {}
    with bench_servers([(None, hook) for _, hook, _ in CONFIGS]) as servers:
        measured = [
            _one(server, library_client, requests_ + 1, seconds)
            for server, (_, _, library_client) in zip(servers, CONFIGS, strict=True)
        ]
    for (name, _, _), (act, chk, rate) in zip(CONFIGS, measured, strict=True):
        figures[name] = [act * 1000, chk * 1000, rate]
        rows.append(
            (name, f"activation p50 {act * 1000:6.2f} ms, check-in p50 {chk * 1000:6.2f} ms, "
                   f"{rate:4.0f} activations/s under load")
        )  # fmt: skip
    report("optimisations: before and after, in one run", rows)
    figures["stages"] = list(stages(calls).values())
    return figures


def stages(calls: int = 500) -> dict[str, float]:
    """The costs the profile pointed at, in microseconds per call, before and after."""

    def _per_call(action: Callable[[], object]) -> float:
        return per_call_us(action, calls)

    kit = kits(1)[0]
    claims_chain = chain_from_wire(kit.certificates)
    now = dt.datetime.fromtimestamp(STORY_START, tz=dt.UTC)
    body = b'{"nonce":"' + b"n" * 22 + b'"}'

    def signed() -> WireRequest:
        request = WireRequest(
            "POST", "http://127.0.0.1:8421/v1/activation", {"Content-Type": JSON}, body
        )
        sign_request(
            request,
            key=kit.key,
            key_id=kit.identity.serial,
            created=int(STORY_START),
            nonce="n" * 22,
        )
        return request

    request = signed()
    verify = partial(
        _verify, public_key=kit.key.public_key(),
        key_id=kit.identity.serial, now=now, max_age=MAX_REQUEST_SKEW, shape=REQUEST_SHAPE,
    )  # fmt: skip
    out: dict[str, float] = {}
    legacy.before_signatures()
    try:
        out["sign a request, library"] = _per_call(signed)
    finally:
        legacy.after_signatures()
    out["sign a request, now"] = _per_call(signed)
    out["verify a request, library"] = _per_call(lambda: verify(request, canonical_first=False))
    out["verify a request, now"] = _per_call(lambda: verify(request))
    trust = FactoryTrust.load(BENCH_DATA / "factory" / "root.pem")
    # Neither results nor intermediates kept: every call takes the whole path to the root.
    unknown = FactoryTrust(trust.root, verified=VerifiedChains(size=0), anchors=VerifiedChains(0))
    out["verify a chain, whole path"] = _per_call(
        lambda: unknown.verify_chain(claims_chain, now=now)
    )
    # A new device whose intermediate is known (the first call made it known).
    anchored = FactoryTrust(trust.root, verified=VerifiedChains(size=0))
    out["verify a chain, intermediate known"] = _per_call(
        lambda: anchored.verify_chain(claims_chain, now=now)
    )
    out["verify a chain, seen before"] = _per_call(
        lambda: trust.verify_chain(claims_chain, now=now)
    )
    report("what the profile pointed at, per call", [(k, f"{v:7.1f} us") for k, v in out.items()])
    return out
