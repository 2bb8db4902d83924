"""A slow venue makes the poller's rounds slow, never makes the watchdog replace the poller."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from perpsbot.bot import ROOT, VenueLink, bot_sections, bot_spec
from perpsbot.clock import SystemClock
from perpsbot.config import (
    BotConfig,
    JournalConfig,
    MarketDataConfig,
    RuntimeConfig,
    VenueConfig,
)
from perpsbot.runtime import ActorSnapshot, ActorSystem
from perpsbot.runtime.testing import eventually
from perpsbot.venue import JwtSigner, VenueRateLimiter
from tests.support.keys import make_credentials
from tests.venue.raw_server import raw_tcp_server, read_request


@pytest.mark.slow
def test_a_venue_trickling_its_answers_never_gets_the_poller_replaced_as_hung(
    tmp_path: Path,
) -> None:
    requests: list[bytes] = []

    def trickle(conn: socket.socket, stop: threading.Event) -> None:
        requests.append(read_request(conn))
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
        while not stop.wait(0.05):  # a byte well inside any read timeout, never the answer
            conn.sendall(b" ")

    clock = SystemClock()
    # Every actor answers the watchdog's pings within half a second, busy machine or not; a
    # round of the poller's takes far longer. (With 0.05 s, any actor of the tree slow to
    # answer one ping was replaced, and rest_for_one restarted the poller after it.)
    runtime = RuntimeConfig(watchdog_interval_s=0.5, watchdog_timeout_s=0.5)
    config = BotConfig(
        runtime=runtime,
        venue=VenueConfig(request_timeout_s=0.8),  # as the link's: the hang timeout is its
        market_data=MarketDataConfig(symbols=("BTC-USD",), streaming=False, poll_interval_s=0.1),
        journal=JournalConfig(path=tmp_path / "journal.sqlite3"),
    )
    with raw_tcp_server(trickle) as address:
        link = VenueLink(
            rest_base_url=f"http://{address}/api/v3/brokerage",
            market_ws_url="ws://127.0.0.1:9/ws",
            limiter=VenueRateLimiter(clock=clock),
            signer=JwtSigner(make_credentials()[0], clock=clock),
            clock=clock,
            request_timeout_s=0.8,
        )
        system = ActorSystem(
            "slow-venue",
            clock=clock,
            sections_of=bot_sections,
            watchdog_interval_s=runtime.watchdog_interval_s,
            watchdog_timeout_s=runtime.watchdog_timeout_s,
        )
        try:
            system.start(bot_spec(config, link), config=config)

            # Each round's call takes its whole deadline (0.8 s) against a server that never
            # finishes its answer: longer than the watchdog's 0.5 s, which was all it allowed
            # the poller before its hang timeout was derived from the call's deadline. The
            # fifth request is the fifth round's.
            def poller() -> ActorSnapshot:
                return system.inspect().find(f"{ROOT}/poller")

            eventually(lambda: len(requests) >= 5 or poller().restarts, 30, "five quote requests")
            assert poller().restarts == 0
            assert poller().incarnation == 1
        finally:
            system.shutdown()
