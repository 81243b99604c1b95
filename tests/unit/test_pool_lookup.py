"""The phone's adapter looks a URL's connection pool up once (``phone_sim.client.deadline``;
docs/decisions/one-pool-lookup-per-url.md), against a server on loopback: each later request to
the URL takes the same pool; a closed adapter looks its pools up again, even when the close
overtakes a lookup; with proxies, or pickled and unpickled, the adapter behaves as ``requests``'
own."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from urllib3 import PoolManager

from phone_sim.client.deadline import DeadlineAdapter
from phone_sim.client.transport import new_session, prepare_post
from phone_sim.protocol.signing import JSON
from tests.support.hostile_vendor import HostileVendor, Reply, hostile_vendor


@pytest.fixture
def vendor() -> Iterator[HostileVendor]:
    with hostile_vendor(lambda _: Reply(body=b"{}", headers={"Content-Type": JSON})) as served:
        yield served


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every pool the pool managers hand out, by host."""
    seen: list[str] = []
    real = PoolManager.connection_from_host

    def counted(self: PoolManager, host: str | None, *args: Any, **kwargs: Any) -> Any:
        seen.append(str(host))
        return real(self, host, *args, **kwargs)

    monkeypatch.setattr(PoolManager, "connection_from_host", counted)
    return seen


def _post(session: requests.Session, url: str) -> int:
    adapter = session.get_adapter(url)
    response = adapter.send(
        prepare_post(url, b"{}", None), stream=False, timeout=5, verify=True, cert=None, proxies={}
    )
    return response.status_code


def _pool(session: requests.Session, url: str) -> Any:
    adapter = session.get_adapter(url)
    assert isinstance(adapter, DeadlineAdapter)
    return adapter.get_connection_with_tls_context(prepare_post(url, b"{}", None), True, {}, None)


def test_a_url_is_looked_up_once_and_gets_the_same_pool(
    vendor: HostileVendor, lookups: list[str]
) -> None:
    session = new_session()
    for path in ("/v1/activation", "/v1/activation", "/v1/checkin", "/v1/checkin"):
        assert _post(session, vendor.url + path) == 200
    assert lookups == ["127.0.0.1", "127.0.0.1"]  # once per URL
    assert _pool(session, vendor.url + "/v1/activation") is _pool(
        session, vendor.url + "/v1/checkin"
    )
    assert len(lookups) == 2


def test_a_closed_adapter_looks_its_pools_up_again(
    vendor: HostileVendor, lookups: list[str]
) -> None:
    session = new_session()
    url = vendor.url + "/v1/activation"
    assert _post(session, url) == 200
    before = _pool(session, url)
    session.get_adapter(url).close()  # as at a session's end: the manager drops its pools
    assert _post(session, url) == 200
    assert len(lookups) == 2 and _pool(session, url) is not before


def test_a_lookup_that_a_close_overtakes_is_not_handed_out_after_it(
    vendor: HostileVendor, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = new_session()
    url = vendor.url + "/v1/activation"
    adapter = session.get_adapter(url)
    real = PoolManager.connection_from_host

    def closed_meanwhile(self: PoolManager, *args: Any, **kwargs: Any) -> Any:
        pool = real(self, *args, **kwargs)
        adapter.close()  # another thread closes the adapter while this lookup runs
        return pool

    monkeypatch.setattr(PoolManager, "connection_from_host", closed_meanwhile)
    overtaken = _pool(session, url)
    monkeypatch.setattr(PoolManager, "connection_from_host", real)
    assert _pool(session, url) is not overtaken  # the close won: the next request looks again


def test_with_proxies_every_request_is_looked_up(vendor: HostileVendor, lookups: list[str]) -> None:
    session = new_session()
    url = vendor.url + "/v1/activation"
    adapter = session.get_adapter(url)
    assert isinstance(adapter, DeadlineAdapter)
    for _ in range(2):
        # The proxy is the vendor itself: it answers the absolute-form request all the same.
        response = adapter.send(
            prepare_post(url, b"{}", None),
            timeout=5,
            verify=True,
            cert=None,
            proxies={"http": vendor.url},
        )
        assert response.status_code == 200
    assert lookups == ["127.0.0.1", "127.0.0.1"]


def test_an_unpickled_adapter_looks_its_pools_up_afresh(vendor: HostileVendor) -> None:
    session = new_session()
    url = vendor.url + "/v1/activation"
    assert _post(session, url) == 200
    again = pickle.loads(pickle.dumps(session))
    assert isinstance(again.get_adapter(url), DeadlineAdapter)
    assert _post(again, url) == 200
