"""The Global Derivatives venue for the bot (``venue.kind = "global"``): the embedded
exchange's simulated gateway, or a gateway at the configured endpoints (a separately running
one, or with ``--live`` Coinbase's: :func:`perpsbot.config.global_endpoints`). The executor
trades through
:class:`~perpsbot.venue.global_derivatives.GlobalDerivativesGateway`; the quote poller reads
marks from ``public/ticker``, and with ``market_data.streaming`` the streamer takes them from
the ``book`` channels (:class:`GlobalMarkFeed`); the user-feed actor runs ``user.orders`` and
``user.trades`` on a trading socket (:class:`GlobalUserFeed`)."""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from perpsbot.clock import Clock, SystemClock
from perpsbot.errors import InvalidConfigError, VenueError
from perpsbot.messages import PendingMark
from perpsbot.venue import CdpCredentials, JwtSigner
from perpsbot.venue.gateway import VenueGateway
from perpsbot.venue.global_derivatives import (
    GlobalDerivativesClient,
    GlobalDerivativesGateway,
    RpcHttp,
    global_budget,
)
from perpsbot.venue.global_derivatives.marks import GlobalMarkFeed
from perpsbot.venue.global_derivatives.user_channel import GlobalUserFeed
from perpsbot.venue.link import (
    MarketMarks,
    QuoteClient,
    UserChannels,
    VenueMarkFeed,
    VenueUserChannel,
)
from perpsbot.venue.ratelimit import VenueRateLimiter
from perpsbot.venue.records import BestBidAsk

if TYPE_CHECKING:
    from perpsbot.sim import SimExchange
    from perpsbot.sim.gateway import SimGlobalGateway

__all__ = [
    "GLOBAL_HTTP_URL",
    "GlobalQuotes",
    "GlobalVenue",
    "global_gateway_of",
    "start_global_gateway",
]

#: Where an embedded exchange's Global Derivatives face answers, in its published endpoint.
GLOBAL_HTTP_URL = "global_http_url"
#: The Global Derivatives face each embedded exchange runs, while it runs.
_FACES: weakref.WeakKeyDictionary[SimExchange, SimGlobalGateway] = weakref.WeakKeyDictionary()


def start_global_gateway(sim: SimExchange, stack: contextlib.ExitStack) -> SimGlobalGateway:
    """Start the embedded exchange's Global Derivatives face, stopped by ``stack``."""
    from perpsbot.sim.gateway import SimGlobalGateway  # noqa: PLC0415

    gateway = SimGlobalGateway(sim).start()
    _FACES[sim] = gateway
    stack.callback(gateway.stop)
    sim.announce({GLOBAL_HTTP_URL: gateway.http_url})  # for account and order preview
    return gateway


def global_gateway_of(sim: SimExchange) -> SimGlobalGateway:
    """The Global Derivatives face :func:`start_global_gateway` started for ``sim``."""
    return _FACES[sim]


class GlobalQuotes:
    """The quote poller's client on this venue: ``public/ticker`` per instrument."""

    def __init__(self, client: GlobalDerivativesClient) -> None:
        self._client = client

    def best_bid_ask(self, product_ids: list[str]) -> list[BestBidAsk]:
        quotes = []
        for symbol in product_ids:
            try:
                ticker = self._client.ticker(symbol)
            except VenueError:
                if len(product_ids) == 1:
                    raise
                continue  # the poller asks for a missing one on its own
            quotes.append(
                BestBidAsk(
                    product_id=symbol,
                    bid=ticker.best_bid_price,
                    bid_size=ticker.best_bid_amount,
                    ask=ticker.best_ask_price,
                    ask_size=ticker.best_ask_amount,
                    ts_ns=ticker.timestamp * 1_000_000,
                )
            )
        return quotes

    def within(self, seconds: float) -> AbstractContextManager[None]:
        return self._client.http.transport.scope(seconds)

    def close(self) -> None:
        self._client.http.close()


class GlobalVenue:
    """Makes the gateways and quote clients of one gateway account (one shared budget).

    Args:
        http_url: the gateway's HTTP base.
        trading_ws_url: its trading socket (the user channel's); None for one-shot commands.
        streams_ws_url: its market-data socket (the streamed marks'); None likewise.
        credentials: the CDP key of the account.
        clock: the bot's clock (send-by instants).
        request_timeout_s: each call's deadline (real time).
    """

    def __init__(
        self,
        *,
        http_url: str,
        trading_ws_url: str | None = None,
        streams_ws_url: str | None = None,
        credentials: CdpCredentials,
        clock: Clock,
        request_timeout_s: float,
    ) -> None:
        self._url = http_url
        self._trading_ws_url = trading_ws_url
        self._streams_ws_url = streams_ws_url
        self._credentials = credentials
        self._clock = clock
        self._timeout_s = request_timeout_s
        real = SystemClock()  # deadlines and budgets bound real I/O
        self._limiter: VenueRateLimiter = global_budget(clock=real)

    def client(self) -> GlobalDerivativesClient:
        """A typed client of the account (its own connection, the shared budget)."""
        real = SystemClock()
        http = RpcHttp(
            base_url=self._url,
            signer=JwtSigner(self._credentials, clock=real),
            limiter=self._limiter,
            clock=real,
            timeout_s=self._timeout_s,
        )
        return GlobalDerivativesClient(http=http)

    def gateway(self) -> VenueGateway:
        return GlobalDerivativesGateway(self.client(), clock=self._clock)

    def quotes(self) -> QuoteClient:
        return GlobalQuotes(self.client())

    def user_channel(
        self, tell: Callable[[object], None], symbols: tuple[str, ...]
    ) -> VenueUserChannel:
        """The user-feed actor's channel: ``user.orders`` and ``user.trades`` on a trading
        socket of its own."""
        real = SystemClock()
        return GlobalUserFeed(
            url=_socket(self._trading_ws_url, "trading"), client=self.client(),
            signer=JwtSigner(self._credentials, clock=real), limiter=self._limiter,
            clock=self._clock, real_clock=real, tell=tell, symbols=symbols,
            timeout_s=self._timeout_s,
        )  # fmt: skip

    def marks(
        self, offer: Callable[[str, PendingMark, int], None], symbols: tuple[str, ...]
    ) -> VenueMarkFeed:
        """The streamer's feed: the ``book`` channels on a streams socket of its own."""
        return GlobalMarkFeed(
            url=_socket(self._streams_ws_url, "streams"), limiter=self._limiter, clock=self._clock,
            real_clock=SystemClock(), offer=offer, symbols=symbols, timeout_s=self._timeout_s,
        )  # fmt: skip

    @property
    def factories(
        self,
    ) -> tuple[Callable[[], VenueGateway], Callable[[], QuoteClient], UserChannels, MarketMarks]:
        return self.gateway, self.quotes, self.user_channel, self.marks


def _socket(url: str | None, which: str) -> str:
    if url is None:
        raise InvalidConfigError(
            f"the Global Derivatives venue needs its {which} socket's URL for this, found none"
        )
    return url
