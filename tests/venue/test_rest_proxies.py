"""The environment's proxies (``HTTP_PROXY``, ``HTTPS_PROXY``, ``NO_PROXY``) are read when the
REST client is built, and honoured by every call as ``requests`` would: a change to the
environment afterwards is not seen. Two loopback servers: the venue and a proxy."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import msgspec
import pytest

from perpsbot.clock import FakeClock
from perpsbot.errors import VenueTransportError
from perpsbot.venue import RestClient, RetryPolicy, VenueRateLimiter
from tests.venue.canned_http import Canned, CannedServer, canned_server
from tests.venue.conftest import FakeWait

_PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
_TIME = Canned(200, msgspec.json.encode({"epochMillis": "1775520000500"}))


@pytest.fixture(autouse=True)
def _no_proxy_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture
def venue() -> Iterator[CannedServer]:
    with canned_server() as server:
        server.answer("GET", f"{urlsplit(server.base_url).path}/time", _TIME)
        yield server


@pytest.fixture
def proxy() -> Iterator[CannedServer]:
    with canned_server() as server:
        server.answer("GET", "/api/v3/brokerage/time", _TIME)
        yield server


def _origin(server: CannedServer) -> str:
    split = urlsplit(server.base_url)
    return f"{split.scheme}://{split.netloc}"


def _client(base_url: str) -> RestClient:
    clock = FakeClock()
    return RestClient(
        base_url=base_url,
        signer=None,
        limiter=VenueRateLimiter(clock=clock, wait=FakeWait(clock)),
        retry=RetryPolicy(max_attempts=1),
        timeout_s=2.0,
    )


def test_a_proxy_set_when_the_client_was_built_carries_its_calls_after_it_is_unset(
    venue: CannedServer, proxy: CannedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", _origin(proxy))
    client = _client(venue.base_url)
    monkeypatch.delenv("HTTP_PROXY")

    assert client.server_time().ts_ns == 1_775_520_000_500_000_000
    client.close()

    assert [(s.method, s.path) for s in proxy.seen] == [("GET", "/api/v3/brokerage/time")]
    assert proxy.seen[0].headers["Host"] == urlsplit(venue.base_url).netloc
    assert venue.seen == []


def test_an_https_venue_is_reached_through_the_https_proxy_set_when_the_client_was_built(
    venue: CannedServer, proxy: CannedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", _origin(proxy))
    https_venue = venue.base_url.replace("http://", "https://", 1)
    client = _client(https_venue)
    monkeypatch.delenv("HTTPS_PROXY")

    with pytest.raises(VenueTransportError):  # the proxy refuses the tunnel
        client.server_time()
    client.close()

    assert [s.method for s in proxy.seen] == ["CONNECT"]
    assert venue.seen == []


def test_no_proxy_set_when_the_client_was_built_keeps_its_calls_direct_after_it_is_unset(
    venue: CannedServer, proxy: CannedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", _origin(proxy))
    monkeypatch.setenv("NO_PROXY", urlsplit(venue.base_url).hostname or "")
    client = _client(venue.base_url)
    monkeypatch.delenv("NO_PROXY")

    assert client.server_time().ts_ns == 1_775_520_000_500_000_000
    client.close()

    assert [(s.method, s.path) for s in venue.seen] == [("GET", "/api/v3/brokerage/time")]
    assert proxy.seen == []
