"""Fixtures shared across the suite: the simulated factory and a real vendor server on loopback."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from phone_sim.protocol.clock import FixedClock
from phone_sim.protocol.identity import Factory
from server_stub.datadir.settings import ServerSettings
from server_stub.runtime.embedded import EmbeddedVendorServer
from server_stub.runtime.heap import settle_heap
from tests.support.collected import COLLECTED
from tests.support.signed_client import SEPT_2021

# A vendor server of a test's own, its phones and its admin client, as `server`, `phones` and
# `admin` (a module that defines its own fixture of one of these names keeps its own).
# Each test not marked slow that took more than its share of CPU is named at the end of a run.
pytest_plugins = ["tests.support.admin_fixtures", "tests.support.cpu_budget"]

# The machine running the suite is shared and often crowded: how fast Hypothesis makes its
# examples, and how long one takes, say nothing about the code under test. Each property's
# examples and assertions are unchanged.
settings.register_profile("suite", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("suite")

# A suite started in the background of a script (`make test &`) inherits Ctrl-C ignored, and so
# would every program the tests start: the tests that press Ctrl-C on a server or a fleet would
# wait for an end that cannot come. The suite's processes take Ctrl-C back, as a terminal gives it.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture
def factory(tmp_path: Path) -> Factory:
    """The simulated factory CA, kept in ``tmp_path / "factory"``."""
    return Factory.open(tmp_path / "factory")


@pytest.fixture
def vendor_server(tmp_path: Path, factory: Factory) -> Iterator[EmbeddedVendorServer]:
    """The vendor server on an ephemeral loopback port, its clock fixed at 2021-09-01T12:00Z.

    Its state lives in ``tmp_path / "vendor"``; it trusts ``factory`` (the default factory root
    location, ``tmp_path / "factory" / "root.pem"``). ``vendor_server.clock`` is a FixedClock.
    """
    settings = ServerSettings(data_dir=tmp_path / "vendor", port=0)
    with EmbeddedVendorServer(settings, clock=FixedClock(SEPT_2021)) as server:
        yield server


def pytest_itemcollected(item: pytest.Item) -> None:
    """Kept for tests that check names against pytest's own collection
    (tests/unit/test_security_doc.py): the session's is the same, and costs no second run."""
    item.config.stash.setdefault(COLLECTED, set()).add(item.nodeid)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Everything the tests import is loaded now: out of the collector's sight, and collections
    less often. A worker's heap (Textual, the server's stack, Hypothesis, every test module) was
    walked again by every full collection, and a Textual app allocates enough to trigger many:
    the suite's CPU fell by a fifth (docs/decisions/gc-frozen-after-collection.md)."""
    settle_heap()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked slow run first (pytest-xdist hands tests out in this order): started early
    they share both cores with the quick ones, instead of ending the run on one
    (docs/decisions/slow-tests-first-and-worksteal.md)."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
