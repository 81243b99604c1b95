"""Fixtures for tests of the vendor's operator side: a server of their own, its phones, its
admin client, for every test (``pytest_plugins`` in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from phone_sim.protocol.identity import Factory
from server_stub.admin.client import AdminClient
from server_stub.runtime.embedded import EmbeddedVendorServer
from tests.support.vendor import Phones, admin_client, vendor_server


@pytest.fixture
def server(tmp_path: Path, factory: Factory) -> Iterator[EmbeddedVendorServer]:
    with vendor_server(tmp_path) as s:
        yield s


@pytest.fixture
def phones(factory: Factory, server: EmbeddedVendorServer) -> Phones:
    return Phones(factory, server)


@pytest.fixture
def admin(server: EmbeddedVendorServer) -> Iterator[AdminClient]:
    with admin_client(server) as client:
        yield client
