"""The executor's harness on the Global Derivatives venue: the executor reaches the simulated
gateway (the same exchange's second face) through :class:`GlobalDerivativesGateway` over HTTP,
and the test reads the venue's truth by label with a client of its own."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from perpsbot.clock import Clock, SystemClock
from perpsbot.sim import SimExchange
from perpsbot.sim.gateway import GatewayConfig, SimGlobalGateway
from perpsbot.venue import JwtSigner
from perpsbot.venue.gateway import VenueGateway, VenueOrder
from perpsbot.venue.global_derivatives import (
    GlobalDerivativesClient,
    GlobalDerivativesGateway,
    GlobalLimits,
    RpcHttp,
    global_budget,
)
from perpsbot.venue.global_derivatives.user_channel import GlobalUserFeed
from perpsbot.venue.link import VenueUserChannel
from tests.support.keys import make_credentials

#: The exchange's BTC perpetual as the simulated gateway names it.
GLOBAL_BTC = "BTC_USDC-PERPETUAL"

_UNHURRIED = GlobalLimits(
    requests_per_s=10**6, requests_burst=10**6, matching_per_s=10**6, matching_burst=10**6
)


class GlobalSource:
    """Hands out a new :class:`GlobalDerivativesGateway` (what the venue link is to the
    executor), on ``clock`` for its send-by instants; HTTP deadlines are real time.

    Args:
        gateway: the simulated gateway.
        clock: the bot's clock (the harness's FakeClock, which the exchange runs on too).
    """

    def __init__(self, gateway: SimGlobalGateway, clock: Clock) -> None:
        self._url = gateway.http_url
        self._trading_url = gateway.trading_ws_url
        self._clock = clock
        self._opened: list[GlobalDerivativesGateway] = []

    def _client(self) -> GlobalDerivativesClient:
        real = SystemClock()
        http = RpcHttp(
            base_url=self._url,
            signer=JwtSigner(make_credentials()[0], clock=real),
            # The executor polls at every second of the test's clock, and the test moves that
            # clock much faster than real time: the client's own real-time pace would only
            # hold the polls back (the venue's credit pool is as generous).
            limiter=global_budget(clock=real, limits=_UNHURRIED),
            clock=real,
            timeout_s=2.0,
        )
        return GlobalDerivativesClient(http=http)

    def gateway(self) -> VenueGateway:
        opened = GlobalDerivativesGateway(self._client(), clock=self._clock)
        self._opened.append(opened)
        return opened

    def user_channel(
        self, tell: Callable[[object], None], symbols: tuple[str, ...]
    ) -> VenueUserChannel:
        """The user-feed actor's channel on this venue (the link's ``user_channels``)."""
        real = SystemClock()
        return GlobalUserFeed(
            url=self._trading_url, client=self._client(),
            signer=JwtSigner(make_credentials()[0], clock=real),
            limiter=global_budget(clock=real), clock=self._clock, real_clock=real, tell=tell,
            symbols=symbols, timeout_s=2.0,
        )  # fmt: skip

    def orders(self, label: str, symbol: str = GLOBAL_BTC) -> list[VenueOrder]:
        """Every order at the venue carrying ``label``, open or closed, filled or not."""
        client = self._client()
        truth = GlobalDerivativesGateway(client, clock=self._clock)
        try:
            truth.products([symbol])
            listed = client.open_orders(symbol) + client.order_history(symbol)
            ids = sorted({o.order_id for o in listed if o.label == label})
            return [truth.get_order(i) for i in ids]
        finally:
            truth.close()

    def close(self) -> None:
        for opened in self._opened:
            opened.close()


def global_gateway(sim: SimExchange) -> Iterator[SimGlobalGateway]:
    """The simulated gateway on ``sim`` (generous credits: the executor polls)."""
    config = GatewayConfig(credit_pool=10**9, matching_burst=10**6)
    with SimGlobalGateway(sim, config) as started:
        yield started
