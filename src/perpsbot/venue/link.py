"""The venue resources one bot process shares between its actors."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Protocol

from perpsbot.backoff import Backoff
from perpsbot.clock import Clock
from perpsbot.ids import IdSource
from perpsbot.messages import FeedStatus, PendingMark
from perpsbot.venue.advanced_trade import AdvancedTradeGateway
from perpsbot.venue.auth import JwtSigner
from perpsbot.venue.feed import DEFAULT_LINGER_S, WebSocketFeed
from perpsbot.venue.frames import Frame
from perpsbot.venue.gateway import VenueGateway
from perpsbot.venue.ratelimit import VenueRateLimiter
from perpsbot.venue.records import BestBidAsk
from perpsbot.venue.rest import RestClient

__all__ = [
    "MarketMarks",
    "QuoteClient",
    "UserChannels",
    "VenueLink",
    "VenueMarkFeed",
    "VenueUserChannel",
    "longest_rest_call_s",
]


class QuoteClient(Protocol):
    """What the quote poller asks of a venue: the top of each product's book, read now."""

    def best_bid_ask(self, product_ids: list[str]) -> list[BestBidAsk]: ...

    def within(self, seconds: float) -> AbstractContextManager[None]: ...

    def close(self) -> None: ...


class VenueUserChannel(Protocol):
    """A venue's user channel (the bot's own orders and fills) that tells the executor
    itself, for a venue whose channel is not Advanced Trade's ``user`` feed: started once by
    the user-feed actor, stopped once."""

    def start(self) -> bool:
        """Start it; False if it cannot run (orders are then followed by polls)."""
        ...

    def stop(self) -> None: ...

    @property
    def healthy(self) -> bool: ...

    @property
    def frames(self) -> int: ...

    @property
    def orders_reported(self) -> int: ...

    @property
    def times_unhealthy(self) -> int: ...


class VenueMarkFeed(Protocol):
    """A venue's market-data feed that offers marks itself, for a venue whose feed is not
    Advanced Trade's: started and stopped by the streamer, which reads its health on its
    silence timer."""

    def start(self) -> VenueMarkFeed: ...

    def stop(self) -> None: ...

    @property
    def healthy(self) -> bool: ...

    @property
    def detail(self) -> str: ...

    @property
    def marks_sent(self) -> int: ...

    @property
    def books_ready(self) -> tuple[str, ...]: ...

    @property
    def reconnects(self) -> int: ...


#: Makes a venue's mark feed: ``(offer a mark, symbols followed)``; ``offer`` is the mark
#: window's coalescer's ``(symbol, PendingMark, now_ns)``.
MarketMarks = Callable[[Callable[[str, PendingMark, int], None], tuple[str, ...]], VenueMarkFeed]

#: Makes a venue's user channel: ``(tell the executor, symbols followed)``.
UserChannels = Callable[[Callable[[object], None], tuple[str, ...]], VenueUserChannel]


def longest_rest_call_s(request_timeout_s: float) -> float:
    """The longest one REST call of a link's clients can take: ``request_timeout_s``, which
    bounds the whole call, its retries and every wait included."""
    return request_timeout_s


class VenueLink:
    """Where the venue is and the budget every caller shares: one per process.

    Actors get this instead of building clients from the environment, so every REST client
    and feed of the process draws on one rate-limit budget.

    Args:
        rest_base_url: ``.../api/v3/brokerage`` of Coinbase or the simulated exchange.
        market_ws_url: the market-data websocket.
        user_ws_url: the user-channel websocket (orders); None when the venue has none.
        limiter: the venue's shared budget.
        signer: signs REST requests and websocket subscribes; None for public data only.
        clock: the time source.
        request_timeout_s: the deadline of every REST request attempt (connect, send and the
            whole answer).
        feed_backoff: the reconnect schedule of feeds (the venue's default if None).
        feed_linger_s: how long feeds wait at most after a small read, so that a trickle is
            taken a few messages per thread wake-up (see ``WebSocketFeed``); 0, the
            default, waits for nothing once a message is complete.
        embedded: the exchange this link points at when this process runs it (the
            simulated exchange of a paper account), whatever its type; None for a venue.
        on_rest_outcome: told the outcome of every REST attempt of every client (metrics).
        gateways: makes the executor's gateway when the venue is not Advanced Trade's REST.
        quotes: makes the quote poller's client when the venue is not Advanced Trade's REST.
        user_channels: makes the user-feed actor's channel when the venue is not Advanced
            Trade's (then ``user_ws_url`` is not used).
        market_marks: makes the streamer's feed when the venue is not Advanced Trade's (then
            ``market_ws_url`` is not used).
    """

    def __init__(
        self,
        *,
        rest_base_url: str,
        market_ws_url: str,
        user_ws_url: str | None = None,
        limiter: VenueRateLimiter,
        signer: JwtSigner | None,
        clock: Clock,
        request_timeout_s: float = 10.0,
        feed_backoff: Backoff | None = None,
        feed_linger_s: float = DEFAULT_LINGER_S,
        embedded: object | None = None,
        on_rest_outcome: Callable[[str], None] | None = None,
        gateways: Callable[[], VenueGateway] | None = None,
        quotes: Callable[[], QuoteClient] | None = None,
        user_channels: UserChannels | None = None,
        market_marks: MarketMarks | None = None,
    ) -> None:
        self.rest_base_url = rest_base_url
        self.market_ws_url = market_ws_url
        self.user_ws_url = user_ws_url
        self.limiter = limiter
        self.signer = signer
        self.clock = clock
        self.request_timeout_s = request_timeout_s
        self.feed_backoff = feed_backoff
        self.feed_linger_s = feed_linger_s
        self.embedded = embedded
        self.on_rest_outcome = on_rest_outcome
        self.gateways = gateways
        self.quotes = quotes
        self.user_channels = user_channels
        self.market_marks = market_marks

    def rest_client(self) -> RestClient:
        """A new REST client on the shared budget (one per actor: sessions are not shared)."""
        return RestClient(
            base_url=self.rest_base_url,
            signer=self.signer,
            limiter=self.limiter,
            # Deadlines bound real I/O: the system clock, never a business clock a test moves.
            timeout_s=self.request_timeout_s,
            connect_timeout_s=min(3.05, self.request_timeout_s),
            on_outcome=self.on_rest_outcome,
        )

    def gateway(self) -> VenueGateway:
        """A new venue gateway (the executor's): ``gateways``'s, else Advanced Trade's over a
        new :meth:`rest_client`."""
        if self.gateways is not None:
            return self.gateways()
        return AdvancedTradeGateway(self.rest_client())

    def quote_client(self) -> QuoteClient:
        """A new client for the quote poller: ``quotes``'s, else a new :meth:`rest_client`."""
        return self.quotes() if self.quotes is not None else self.rest_client()

    @property
    def longest_call_s(self) -> float:
        """The longest one REST call of :meth:`rest_client` can take, retries included.

        Actors that make REST calls in their handlers derive their hang timeouts from it (or
        bound a batch of calls by it with :meth:`RestClient.within`), so a slow venue is never
        mistaken for a hung actor.
        """
        return longest_rest_call_s(self.request_timeout_s)

    def market_feed(
        self,
        *,
        channels: Sequence[str],
        product_ids: Sequence[str],
        on_frame: Callable[[Frame], None],
        on_status: Callable[[FeedStatus], None],
        stale_after_s: float,
        on_wait: Callable[[], None] | None = None,
        on_raw: Callable[[bytes, int], None] | None = None,
        ids: IdSource | None = None,
        name: str = "market",
    ) -> WebSocketFeed:
        """A market-data feed (not started) on the shared websocket-connect budget."""
        return WebSocketFeed(
            url=self.market_ws_url,
            channels=channels,
            product_ids=product_ids,
            on_frame=on_frame,
            on_status=on_status,
            on_wait=on_wait,
            on_raw=on_raw,
            limiter=self.limiter,
            clock=self.clock,
            ids=ids,
            signer=self.signer,
            name=name,
            stale_after_s=stale_after_s,
            backoff=self.feed_backoff,
            linger_s=self.feed_linger_s,
        )

    def user_feed(
        self,
        *,
        product_ids: Sequence[str],
        on_frame: Callable[[Frame], None],
        on_status: Callable[[FeedStatus], None],
        stale_after_s: float,
    ) -> WebSocketFeed | None:
        """A ``user``-channel feed (not started), or None without a user URL or a signer."""
        if self.user_ws_url is None or self.signer is None:
            return None
        return WebSocketFeed(
            url=self.user_ws_url,
            channels=("user",),
            product_ids=product_ids,
            on_frame=on_frame,
            on_status=on_status,
            limiter=self.limiter,
            clock=self.clock,
            signer=self.signer,
            name="user",
            stale_after_s=stale_after_s,
            backoff=self.feed_backoff,
        )

    def __repr__(self) -> str:
        return f"VenueLink(rest={self.rest_base_url!r}, ws={self.market_ws_url!r})"
