"""Clients of the loopback exchange for tests on a FakeClock: the venue link the bot's actors
use, and a REST client for the test's own look at the venue.

A FakeClock never refills a rate limiter's bucket, so their waits return at once.
"""

from __future__ import annotations

from perpsbot.clock import FakeClock
from perpsbot.sim import SimExchange
from perpsbot.venue import Backoff, JwtSigner, RestClient, VenueLink, VenueRateLimiter
from perpsbot.venue.ratelimit import RateLimits
from tests.support.keys import make_credentials

_UNLIMITED = RateLimits(
    private_per_s=1e9, public_per_s=1e9, private_burst=10**9, public_burst=10**9
)


def no_wait(_seconds: float) -> None:
    """The rate limiter's and the REST client's wait: the test never waits."""


def venue_link(sim: SimExchange, clock: FakeClock, *, request_timeout_s: float = 2.0) -> VenueLink:
    """The link the actors of a test tree reach ``sim`` through (feeds reconnect fast)."""
    return VenueLink(
        rest_base_url=sim.rest_base_url,
        market_ws_url=sim.market_ws_url,
        user_ws_url=sim.user_ws_url,
        limiter=VenueRateLimiter(clock=clock, wait=no_wait),
        signer=JwtSigner(make_credentials()[0], clock=clock),
        clock=clock,
        request_timeout_s=request_timeout_s,
        feed_backoff=Backoff(initial_s=0.02, max_s=0.1, jitter=0.0),
    )


def sim_rest(sim: SimExchange, clock: FakeClock) -> RestClient:
    """A REST client of the test's own, to place orders by hand and read the venue's truth.

    Its budget is its own and never runs out: a FakeClock never refills a bucket, so a test
    that polls the venue while the clock stands still would otherwise book it far ahead and
    have its own reads refused before its deadline."""
    return RestClient(
        base_url=sim.rest_base_url,
        signer=JwtSigner(make_credentials()[0], clock=clock),
        limiter=VenueRateLimiter(clock=clock, wait=no_wait, limits=_UNLIMITED),
        wait=no_wait,
    )
