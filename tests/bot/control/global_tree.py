"""The trading tree of ``trading_tree`` on the exchange's Global Derivatives gateway: the link
the bot opens for ``venue.kind = "global"`` (the executor's gateway, no user channel), and the
test's own gateway to read the venue's figures."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import attrs

from perpsbot.bot._global import GlobalVenue
from perpsbot.clock import FakeClock
from perpsbot.sim import SimExchange
from perpsbot.sim.gateway import SimGlobalGateway
from perpsbot.venue import Backoff, JwtSigner, VenueLink, VenueRateLimiter
from tests.support.keys import make_credentials
from tests.support.sim_clients import no_wait

#: The engine's perpetual behind ``BTC_USDC-PERPETUAL``, and its price at seed 5.
ENGINE_PERP = "BIP-20DEC30-CDE"
PERP = "BTC_USDC-PERPETUAL"
MARK = "68930"


@attrs.frozen
class GlobalLink:
    link: VenueLink
    venue: GlobalVenue


@contextlib.contextmanager
def global_link(sim: SimExchange, clock: FakeClock) -> Iterator[GlobalLink]:
    """Start ``sim``'s Global Derivatives gateway; the bot's link to it, and the venue."""
    gateway = SimGlobalGateway(sim).start()
    try:
        venue = GlobalVenue(
            http_url=gateway.http_url, credentials=make_credentials()[0], clock=clock,
            request_timeout_s=2.0,
        )  # fmt: skip
        gateways, quotes, _, _ = venue.factories  # orders followed by polls, marks polled
        link = VenueLink(
            rest_base_url=sim.rest_base_url, market_ws_url=sim.market_ws_url, user_ws_url=None,
            gateways=gateways, quotes=quotes,
            limiter=VenueRateLimiter(clock=clock, wait=no_wait),
            signer=JwtSigner(make_credentials()[0], clock=clock), clock=clock,
            request_timeout_s=2.0, feed_backoff=Backoff(initial_s=0.02, max_s=0.1, jitter=0.0),
        )  # fmt: skip
        yield GlobalLink(link=link, venue=venue)
    finally:
        gateway.stop()
