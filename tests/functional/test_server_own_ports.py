"""Server processes with ports of their own (``ServerProcesses(own_ports=True)``), as a fleet's
embedded server runs them: each process also listens on a port only it listens on, on the same
host, beside the port they share; what is sent to a process's own port is that process's to
answer (docs/decisions/fleet-connections-spread-over-server-processes.md)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from phone_sim.protocol.identity import Factory
from server_stub.runtime.processes import ServerProcesses, can_share_port
from tests.support.signed_client import session
from tests.support.vendor import settings_in_a_process

pytestmark = pytest.mark.skipif(not can_share_port(), reason="needs SO_REUSEPORT (Linux)")


def test_each_process_answers_on_its_own_port(tmp_path: Path, factory: Factory) -> None:
    processes = ServerProcesses(
        settings_in_a_process(tmp_path), 2, log_level="critical", own_ports=True
    )
    try:
        own = processes.own_urls
        shared = urlsplit(processes.url)
        assert len(own) == 2 and len(set(own)) == 2
        for url in own:
            parts = urlsplit(url)
            assert parts.hostname == shared.hostname == "127.0.0.1"
            assert parts.port != shared.port
        client = session()
        for url, times in zip(own, (5, 3), strict=True):
            for _ in range(times):
                assert client.get(url + "/v1/health", timeout=10).status_code == 200
        client.close()
    finally:
        usages = processes.stop()
    # Each process answered exactly what was sent to its own port.
    assert [u.requests if u else None for u in usages] == [5, 3]


def test_without_own_ports_there_are_none(tmp_path: Path, factory: Factory) -> None:
    processes = ServerProcesses(settings_in_a_process(tmp_path), 1, log_level="critical")
    try:
        assert processes.own_urls == ()
        assert session().get(processes.url + "/v1/health", timeout=10).status_code == 200
    finally:
        processes.stop()
