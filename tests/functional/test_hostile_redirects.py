"""Redirects, huge and encoded bodies, and drips, against the real phone client in a process of its
own, so that its memory can be measured (``tests/support/measured_exchange.py``).

The client once followed redirects as ``requests`` does by default, reading each 3xx body whole
(and inflating it) before its 16 KiB limit and its deadline applied: a 307 with a 200 MiB body
or a 300 MiB gzip bomb cost the phone hundreds of MiB, and a 307 dripped slowly held it far past
its deadline. Now a 3xx is the error ``redirect_refused`` and its body is never read, every
other body is read within 16 KiB (on the wire and inflated), and one deadline covers the whole
exchange, status line and headers included. Each case: the named error, the exchange over
within its deadline plus half a second, the client's peak memory up by less than 50 MiB.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.hostile_vendor import Reply, hostile_vendor, streamed, streamed_bomb

ROOT = Path(__file__).resolve().parents[2]
MIB = 1024 * 1024
#: the client's deadline for the whole exchange, in seconds
TIMEOUT = 2.0
#: how far past its deadline an exchange may end
MARGIN = 0.5
#: how far the client's peak resident memory may rise during one exchange (KiB)
MAX_GROWTH_KIB = 50 * 1024

MOVED = {"Location": "/moved", "Content-Type": "application/json"}

#: name -> (the vendor's answer, the client's error code)
CASES: dict[str, tuple[Reply, str]] = {
    "307 with a 200 MiB body": (
        Reply(status=307, headers=MOVED, stream=streamed(200 * MIB), declared_length=200 * MIB),
        "redirect_refused",
    ),
    "307 with a 300 MiB gzip bomb": (
        Reply(
            status=307,
            headers=MOVED | {"Content-Encoding": "gzip"},
            stream=streamed_bomb(300 * MIB),
        ),
        "redirect_refused",
    ),
    "307, its body dripped": (
        Reply(status=307, headers=MOVED, body=b"{" + b" " * 200 + b"}", drip=0.05),
        "redirect_refused",
    ),
    "307, its status line and headers dripped": (
        Reply(status=307, headers=MOVED, body=b"{}", drip_head=0.05),
        "timeout",
    ),
    "200, its status line and headers dripped": (
        Reply(headers={"Content-Type": "application/json"}, body=b"{}", drip_head=0.05),
        "timeout",
    ),
    "200 with a 300 MiB gzip bomb": (
        Reply(
            headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
            stream=streamed_bomb(300 * MIB),
        ),
        "response_too_large",
    ),
    "200 with a 300 MiB deflate bomb": (
        Reply(
            headers={"Content-Type": "application/json", "Content-Encoding": "deflate"},
            stream=streamed_bomb(300 * MIB, coding="deflate"),
        ),
        "response_too_large",
    ),
    "200 in brotli (not decoded)": (
        Reply(
            headers={"Content-Type": "application/json", "Content-Encoding": "br"},
            body=b"\x1b\xff\xff" * 1000,
        ),
        "encoding_refused",
    ),
    "500 with a 200 MiB error body": (
        Reply(
            status=500,
            headers={"Content-Type": "application/json"},
            stream=streamed(200 * MIB),
            declared_length=200 * MIB,
        ),
        "response_too_large",
    ),
}


def _measured(url: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-m", "tests.support.measured_exchange", url, str(TIMEOUT)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=120,
    )
    result: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return result


@pytest.mark.parametrize("name", list(CASES))
def test_a_hostile_answer_costs_the_phone_little_memory_and_no_more_than_its_deadline(
    name: str,
) -> None:
    reply, code = CASES[name]
    with hostile_vendor(lambda seen: Reply(status=503) if seen.path == "/moved" else reply) as v:
        result = _measured(v.url)
        asked = [seen.path for seen in v.seen]
    growth = result["rss_growth_kib"]
    assert isinstance(growth, int) and growth < MAX_GROWTH_KIB, result
    elapsed = result["elapsed"]
    assert isinstance(elapsed, float) and elapsed < TIMEOUT + MARGIN, result
    assert result["error_code"] == code, result
    assert asked == ["/v1/activation"]  # the phone asked once and went nowhere else
