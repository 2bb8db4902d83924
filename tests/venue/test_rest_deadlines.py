"""REST calls end by their deadline and read bounded answers, whatever the server does."""

from __future__ import annotations

import logging
import random
import socket
import threading
import tracemalloc
from collections.abc import Callable, Iterator

import pytest

from perpsbot.clock import FakeClock, SystemClock, stopwatch_ns
from perpsbot.config import VenueConfig
from perpsbot.errors import (
    InvalidConfigError,
    VenueRateLimitedError,
    VenueResponseError,
    VenueTransportError,
)
from perpsbot.venue import Backoff, RestClient, VenueRateLimiter
from perpsbot.venue.rest import RetryPolicy
from tests.support.waits import FakeWait
from tests.venue.canned_http import Canned, CannedServer, canned_server
from tests.venue.raw_server import raw_tcp_server, read_request

_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
_TIME = b'{"iso":"2026-01-01T00:00:00Z","epochSeconds":"1767225600","epochMillis":"1767225600000"}'


def _trickle(data: bytes, stop: threading.Event, conn: socket.socket, every_s: float) -> None:
    # A byte well inside any per-read timeout, for up to 20 s: the call must end long before.
    for i in range(min(len(data), int(20 / every_s))):
        if stop.wait(every_s):
            return
        conn.sendall(data[i : i + 1])


def _client(address: str, **overrides: object) -> RestClient:
    settings: dict[str, object] = {
        "base_url": f"http://{address}/api/v3/brokerage",
        "signer": None,
        "limiter": VenueRateLimiter(clock=SystemClock()),
        "retry": RetryPolicy(max_attempts=1),
        "timeout_s": 0.5,
    }
    settings.update(overrides)
    return RestClient(**settings)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("setting", "value", "shown"),
    [
        ("timeout_s", float("nan"), "nan"),
        ("timeout_s", float("inf"), "inf"),
        ("timeout_s", 0.0, "0.0"),
        ("timeout_s", -1.0, "-1.0"),
        ("timeout_s", 300.5, "300.5"),
        ("timeout_s", 1e300, "1e+300"),
        ("connect_timeout_s", float("nan"), "nan"),
        ("connect_timeout_s", 0.0, "0.0"),
    ],
)
def test_a_client_refuses_a_timeout_that_is_not_a_positive_finite_number_within_the_cap(
    setting: str, value: float, shown: str
) -> None:
    expected = (
        f"RestClient {setting} must be a positive number of seconds at most 300, was '{shown}'"
    )
    with pytest.raises(InvalidConfigError) as raised:
        _client("127.0.0.1:9", **{setting: value})
    assert str(raised.value) == expected


def test_the_client_and_the_configuration_accept_the_same_longest_timeout() -> None:
    _client("127.0.0.1:9", timeout_s=300.0).close()
    VenueConfig(request_timeout_s=300.0)
    with pytest.raises(InvalidConfigError, match=r"at most 300, was '300\.001'"):
        VenueConfig(request_timeout_s=300.001)
    with pytest.raises(InvalidConfigError, match=r"at most 300, was '300\.001'"):
        _client("127.0.0.1:9", timeout_s=300.001)


def _elapsed_s(call: Callable[[], object]) -> float:
    started = stopwatch_ns()
    try:
        call()
    finally:
        elapsed = (stopwatch_ns() - started) / 1e9
    return elapsed


@pytest.fixture
def trickling_head() -> Iterator[str]:
    def serve(conn: socket.socket, stop: threading.Event) -> None:
        read_request(conn)
        _trickle(_HEAD + b"X-Pad: " + b"a" * 100_000, stop, conn, 0.05)

    with raw_tcp_server(serve) as address:
        yield address


@pytest.fixture
def trickling_body() -> Iterator[str]:
    def serve(conn: socket.socket, stop: threading.Event) -> None:
        read_request(conn)
        conn.sendall(_HEAD + b"Content-Length: %d\r\n\r\n" % len(_TIME))
        _trickle(_TIME, stop, conn, 0.05)

    with raw_tcp_server(serve) as address:
        yield address


@pytest.mark.parametrize("server", ["trickling_head", "trickling_body"])
def test_a_server_trickling_its_answer_cannot_hold_a_call_past_its_deadline(
    server: str, request: pytest.FixtureRequest
) -> None:
    client = _client(request.getfixturevalue(server), timeout_s=0.5)
    caught: list[VenueTransportError] = []

    def call() -> None:
        with pytest.raises(VenueTransportError, match="must complete within its deadline") as e:
            client.server_time()
        caught.append(e.value)

    # Each byte comes 0.05 s after the last, inside any per-read timeout: only a deadline on
    # the whole exchange ends the call (before it: 20 s, or never for an endless trickle).
    assert _elapsed_s(call) < 5.0
    assert caught
    client.close()


def test_a_trickling_server_cannot_hold_a_retried_call_past_its_scope(
    trickling_body: str,
) -> None:
    client = _client(
        trickling_body,
        timeout_s=0.5,
        retry=RetryPolicy(max_attempts=4, backoff=Backoff(initial_s=0.01, jitter=0)),
    )
    with client.within(0.8), pytest.raises(VenueTransportError):
        assert _elapsed_s(client.server_time) < 5.0  # two attempts at most, the 2nd cut short
    client.close()


def test_a_retried_call_ends_within_one_timeout_not_one_per_attempt() -> None:
    requests: list[bytes] = []

    def trickle(conn: socket.socket, stop: threading.Event) -> None:
        requests.append(read_request(conn))
        conn.sendall(_HEAD + b"Content-Length: %d\r\n\r\n" % len(_TIME))
        _trickle(_TIME, stop, conn, 0.05)

    with raw_tcp_server(trickle) as address:
        client = _client(
            address,
            timeout_s=0.5,
            retry=RetryPolicy(max_attempts=4, backoff=Backoff(initial_s=0.01, jitter=0)),
        )
        with pytest.raises(VenueTransportError, match=r"must complete within its deadline"):
            client.server_time()
        client.close()

    # The first attempt used the call's whole deadline: no time was left for another (before:
    # four attempts of 0.5 s each, so a call took four times venue.request_timeout_s).
    assert len(requests) == 1


def test_retries_stop_when_the_next_wait_would_pass_the_calls_deadline(
    canned: CannedServer,
) -> None:
    canned.answer("GET", "/api/v3/brokerage/time", *[Canned(503, b"{}")] * 4)
    clock = FakeClock()
    waits = FakeWait(clock)
    client = _client(
        canned.base_url.split("/")[2],
        limiter=VenueRateLimiter(clock=clock, wait=waits),
        retry=RetryPolicy(max_attempts=4, backoff=Backoff(initial_s=0.4, multiplier=1, jitter=0)),
        clock=clock,
        wait=waits,
        timeout_s=1.0,
    )
    started = clock.monotonic()

    with pytest.raises(VenueTransportError, match="503"):
        client.server_time()

    assert waits.waits == [pytest.approx(0.4), pytest.approx(0.4)]  # a third would end at 1.2
    assert len(canned.seen) == 3
    assert clock.monotonic() - started <= 1.0
    client.close()


def test_a_retry_after_longer_than_the_time_left_ends_the_call_at_once(
    canned: CannedServer,
) -> None:
    canned.answer("GET", "/api/v3/brokerage/time", Canned(429, b"{}", {"Retry-After": "5"}))
    clock = FakeClock()
    waits = FakeWait(clock)
    limiter = VenueRateLimiter(clock=clock, wait=waits)
    client = _client(
        canned.base_url.split("/")[2],
        limiter=limiter,
        retry=RetryPolicy(max_attempts=4, max_retry_after_s=5.0),
        clock=clock,
        timeout_s=2.0,
    )

    with pytest.raises(VenueRateLimitedError, match=r"Retry-After=5\.0"):
        client.server_time()

    assert waits.waits == []  # nothing waited for an answer that could not come in time
    assert len(canned.seen) == 1
    assert limiter.public.free_in_s() == pytest.approx(5.0)  # the venue's hold still holds
    client.close()


def _endless_body(content_length: bool) -> Callable[[socket.socket, threading.Event], None]:
    def serve(conn: socket.socket, stop: threading.Event) -> None:
        read_request(conn)
        head = _HEAD + (b"Content-Length: 209715200\r\n" if content_length else b"")
        conn.sendall(head + b"Connection: close\r\n\r\n[")
        chunk = b"0," * 32768
        for _ in range(3200):  # 200 MiB, unless the client leaves first
            if stop.is_set():
                return
            conn.sendall(chunk)

    return serve


@pytest.mark.parametrize("content_length", [True, False], ids=["announced", "close-delimited"])
def test_an_answer_larger_than_the_cap_is_refused_without_being_read_whole(
    content_length: bool,
) -> None:
    with raw_tcp_server(_endless_body(content_length)) as address:
        client = _client(address, timeout_s=10.0, max_response_bytes=1 << 20)
        tracemalloc.start()
        try:
            with pytest.raises(VenueResponseError, match="must answer at most 1048576 bytes"):
                client.server_time()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        client.close()
    assert peak < 8 << 20  # a few copies of the 1 MiB cap at most, never the 200 MiB


def test_the_default_cap_refuses_a_200_mib_answer() -> None:
    with raw_tcp_server(_endless_body(True)) as address:
        client = _client(address, timeout_s=10.0)
        with pytest.raises(VenueResponseError, match="announced 209715200"):
            client.server_time()
        client.close()


@pytest.fixture
def canned() -> Iterator[CannedServer]:
    with canned_server() as server:
        yield server


def test_a_huge_retry_after_holds_the_shared_budget_only_briefly(canned: CannedServer) -> None:
    canned.answer("GET", "/api/v3/brokerage/time", Canned(429, b"{}", {"Retry-After": "999999"}))
    clock = FakeClock()
    waits = FakeWait(clock)
    limiter = VenueRateLimiter(clock=clock, wait=waits)
    retry = RetryPolicy(max_attempts=4, max_retry_after_s=5.0)
    client = _client(canned.base_url.split("/")[2], limiter=limiter, retry=retry, clock=clock)
    started = clock.monotonic()
    with pytest.raises(VenueRateLimitedError):
        client.server_time()
    # Three holds of at most max_retry_after_s each (before the fix: three of 60 s).
    assert clock.monotonic() - started <= 3 * 5.0
    # Another caller on the same budget waits out one hold at most, not the venue's 11 days.
    assert limiter.public.free_in_s() <= 5.0
    client.close()


@pytest.mark.parametrize("value", ["nan", "inf", "-infinity", "-5", "NaN"])
def test_a_malformed_retry_after_is_ignored_and_logged(
    canned: CannedServer, value: str, caplog: pytest.LogCaptureFixture
) -> None:
    canned.answer(
        "GET",
        "/api/v3/brokerage/time",
        Canned(429, b"{}", {"Retry-After": value}),
        Canned(200, _TIME),
    )
    clock = FakeClock()
    waits = FakeWait(clock)
    backoff = Backoff(initial_s=0.75, jitter=0)
    client = _client(
        canned.base_url.split("/")[2],
        limiter=VenueRateLimiter(clock=clock, wait=waits),
        retry=RetryPolicy(max_attempts=2, backoff=backoff),
        clock=clock,
        rng=random.Random(0),
        timeout_s=5.0,  # the backoff fits in the call's deadline
    )
    with caplog.at_level(logging.WARNING, logger="perpsbot.venue.rest"):
        assert client.server_time().ts_ns == 1767225600000 * 1_000_000
    assert "malformed Retry-After" in caplog.text
    assert waits.waits == [pytest.approx(0.75)]  # the backoff, as without a Retry-After
    client.close()
