"""A phone's POST is prepared from a copy of its URL's template
(``phone_sim.client.transport.prepare_post``), and is exactly what ``requests`` prepares from
scratch: method, URL, headers and body, with or without a signature
(docs/decisions/one-prepared-post-per-url.md)."""

from __future__ import annotations

import pytest
import requests

from phone_sim.client.reading import ACCEPT_ENCODING
from phone_sim.client.transport import prepare_post
from phone_sim.protocol.signing import JSON

URLS = (
    "http://127.0.0.1:8000/v1/activation",
    "http://[::1]:9/v1/checkin?x=1",
    "https://vendor.example/v1/time",
    "http://vendor.example:80/v1/activation",
)
BODIES = (b"", b'{"protocol":1}', b"x" * 5000)


class _Stamp(requests.auth.AuthBase):
    """A deterministic signer: a header from the prepared request's body."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body if isinstance(request.body, bytes) else b""
        request.headers["Signature"] = f"sig=:{len(body)}:"
        return request


def _from_scratch(
    url: str, body: bytes, auth: requests.auth.AuthBase | None
) -> requests.PreparedRequest:
    return requests.Request(
        "POST",
        url,
        data=body,
        headers={"Content-Type": JSON, "Accept": JSON, "Accept-Encoding": ACCEPT_ENCODING},
        auth=auth,
    ).prepare()


def _seen(prepared: requests.PreparedRequest) -> tuple[object, ...]:
    return prepared.method, prepared.url, list(prepared.headers.items()), prepared.body


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("body", BODIES)
def test_the_copy_is_what_requests_prepares(url: str, body: bytes) -> None:
    # Signed first, then unsigned: a signature must not stay in the template.
    for auth in (_Stamp(), None, _Stamp()):
        assert _seen(prepare_post(url, body, auth)) == _seen(_from_scratch(url, body, auth))


def test_each_request_is_its_own() -> None:
    url = URLS[0]
    first = prepare_post(url, b'{"a":1}', _Stamp())
    second = prepare_post(url, b"{}", None)
    first.headers["X-Later"] = "1"
    assert "Signature" not in second.headers
    assert "X-Later" not in prepare_post(url, b"{}", None).headers
    assert second.headers["Content-Length"] == "2"
    assert first.body == b'{"a":1}' and second.body == b"{}"


def test_a_url_requests_refuses_is_refused_as_before() -> None:
    for url in ("not a url", "http://"):
        with pytest.raises(requests.RequestException) as before:
            _from_scratch(url, b"{}", None)
        with pytest.raises(type(before.value)):
            prepare_post(url, b"{}", None)
