"""The venue link of a backtest: REST straight into the exchange in this process.

The actors' REST clients are the ordinary ones (budget, retries, the mapping of answers,
parsing), handing each request to the exchange's in-process API (``direct``) instead of HTTP:
no socket, no HTTP framing, and no signature, since the exchange of a backtest checks none.
No user channel (the executor follows its orders by polls) and no market feed
(``market_data.streaming`` off).
"""

from __future__ import annotations

from perpsbot.bot._paper import throwaway_key
from perpsbot.clock import Clock
from perpsbot.sim import SimExchange
from perpsbot.venue import JwtSigner, RestClient, VenueLink, VenueRateLimiter
from perpsbot.venue.ratelimit import RateLimits

__all__ = ["InProcessLink", "backtest_link"]

# The exchange is in this process and answers at once: no budget to share.
_UNLIMITED = RateLimits(
    private_per_s=1e9, public_per_s=1e9, private_burst=10**9, public_burst=10**9
)


#: The market feed's URL of a candle backtest: streaming is off, nothing connects here.
NO_MARKET_FEED = "ws://127.0.0.1:9/backtests-have-no-market-feed"


class InProcessLink(VenueLink):
    """REST straight into ``sim``; no user channel."""

    def __init__(self, sim: SimExchange, clock: Clock) -> None:
        credentials, _ = throwaway_key()  # private calls need a signer; none is checked
        super().__init__(
            rest_base_url=sim.rest_base_url,
            market_ws_url=NO_MARKET_FEED,
            user_ws_url=None,
            limiter=VenueRateLimiter(clock=clock, limits=_UNLIMITED),
            signer=JwtSigner(credentials, clock=clock),
            clock=clock,
            embedded=sim,
        )
        self._sim = sim

    def rest_client(self) -> RestClient:
        return RestClient(
            base_url=self.rest_base_url,
            signer=self.signer,
            limiter=self.limiter,
            timeout_s=self.request_timeout_s,
            on_outcome=self.on_rest_outcome,
            direct=self._sim.in_process_api(),
        )


def backtest_link(sim: SimExchange, clock: Clock) -> VenueLink:
    """The link every actor of a backtest's tree shares."""
    return InProcessLink(sim, clock)
