"""The trading socket's ``user.orders.*`` and ``user.trades.*`` notifications as the executor's
user-channel messages (docs/venues/global-derivatives.md 1.9, 2.4), and the socket that
carries them (:class:`GlobalUserFeed`, which the user-feed actor runs on this venue).

What the Advanced Trade user channel tells the executor, this venue tells the same way:
``UserOrdersReceived`` with each order as a ``UserOrderReport`` in the gateway's status words
and sizes in contracts (and here each trade as a ``UserFillReport``: the executor learns its
fills from the stream), and ``UserFeedChanged`` for the channel's health. The user channels
carry no sequence number and no snapshot, so the channel is healthy from the moment its
subscription is confirmed, unhealthy (the executor polls) from the moment the connection ends,
and a reconnect proves nothing was missed only after a reconciliation: ``UserFeedChanged``
says nothing is restated (``restates_open_orders`` False), and the executor reconciles once
the channel is healthy after a gap. Each connection event names its connection: a late
``on_connected`` of a connection that ended already changes nothing. Runs on the socket's
threads and only tells.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal

from perpsbot.clock import Clock
from perpsbot.errors import FrameDecodeError, InvalidMessageError, VenueError
from perpsbot.messages import (
    UserFeedChanged,
    UserFillReport,
    UserOrderReport,
    UserOrdersReceived,
)
from perpsbot.venue.auth import JwtSigner
from perpsbot.venue.global_derivatives._codec import Notice
from perpsbot.venue.global_derivatives._socket import RpcSocket
from perpsbot.venue.global_derivatives._translate import venue_fill, venue_order
from perpsbot.venue.global_derivatives.client import GlobalDerivativesClient
from perpsbot.venue.global_derivatives.notices import decode_notice
from perpsbot.venue.global_derivatives.records import Order, UserTrade
from perpsbot.venue.ratelimit import VenueRateLimiter

__all__ = ["GlobalUserFeed", "GlobalUserTranslator", "user_channels"]

_log = logging.getLogger("perpsbot.venue.global.user")


def user_channels(symbols: Iterable[str]) -> list[str]:
    """The ``user.orders`` and ``user.trades`` channels of these instruments (``raw``)."""
    return [
        f"user.{kind}.{symbol}.raw" for symbol in sorted(symbols) for kind in ("orders", "trades")
    ]


class GlobalUserTranslator:
    """The socket's callbacks (``on_notice``, ``on_connected``, ``on_disconnected``).

    Args:
        tell: tells the executor a message (its address's ``tell``).
        clock: stamps receive times.
        contract_sizes: each followed instrument's contract size (orders of others are left
            out).
    """

    def __init__(
        self,
        *,
        tell: Callable[[object], None],
        clock: Clock,
        contract_sizes: Mapping[str, Decimal],
    ) -> None:
        self._tell = tell
        self._clock = clock
        self._sizes = dict(contract_sizes)
        self._healthy = False
        self._lock = threading.Lock()  # the setup and reader threads both report
        self._connection = -1  # the newest connection that reported connected
        self._ended = -1  # the newest connection that reported its end
        self.notices = 0
        self.orders_reported = 0
        self.fills_reported = 0
        self.bad_notices = 0
        self.times_unhealthy = 0

    @property
    def healthy(self) -> bool:
        return self._healthy

    def on_connected(self, connection: int) -> None:
        """Connection number ``connection`` is authenticated and resubscribed: updates flow
        from now on (the executor reads those of a gap by a reconciliation). Stale (that
        connection or a later one ended, or a later one connected already): nothing."""
        with self._lock:
            if connection <= max(self._ended, self._connection):
                _log.info(
                    "user channel: connection %d reported connected late: ignored", connection
                )
                return
            if connection > 0:
                self._unhealthy(f"reconnected ({connection})")
            self._connection = connection
            self._healthy = True
            self._tell(
                UserFeedChanged(
                    healthy=True, detail="user channels subscribed", restates_open_orders=False
                )
            )

    def on_disconnected(self, connection: int) -> None:
        """Connection number ``connection`` ended."""
        with self._lock:
            self._ended = max(self._ended, connection)
            if connection >= self._connection:
                self._unhealthy("the trading socket closed")

    def _unhealthy(self, detail: str) -> None:
        if self._healthy:
            self._healthy = False
            self.times_unhealthy += 1
            self._tell(UserFeedChanged(healthy=False, detail=detail))

    def on_notice(self, notice: Notice) -> None:
        if not notice.channel.startswith(("user.orders.", "user.trades.")):
            return
        try:
            decoded = decode_notice(notice)
        except FrameDecodeError as exc:
            self.bad_notices += 1
            _log.warning("user channel: a notification left out: %s", exc)
            return
        if not isinstance(decoded, list):
            return
        self.notices += 1
        orders = tuple(r for o in decoded if isinstance(o, Order) if (r := self._report(o)))
        fills = tuple(f for t in decoded if isinstance(t, UserTrade) if (f := self._fill(t)))
        if orders or fills:
            self.orders_reported += len(orders)
            self.fills_reported += len(fills)
            self._tell(
                UserOrdersReceived(
                    orders=orders,
                    fills=fills,
                    fills_follow=True,  # user.trades
                    snapshot=False,
                    ts_received_ns=self._clock.time_ns(),
                )
            )

    def _report(self, order: Order) -> UserOrderReport | None:
        size = self._sizes.get(order.instrument_name)
        if size is None:
            return None
        try:
            seen = venue_order(order, size)
            return UserOrderReport(
                venue_order_id=seen.venue_order_id,
                client_order_id=seen.client_order_id,
                status=seen.status,
                filled_size=seen.filled_size,
                average_price=seen.average_price,
            )
        except (InvalidMessageError, ValueError) as exc:
            self.bad_notices += 1
            _log.warning("user channel: order %s left out: %s", order.order_id, exc)
            return None

    def _fill(self, trade: UserTrade) -> UserFillReport | None:
        size = self._sizes.get(trade.instrument_name)
        if size is None:
            return None
        try:
            fill = venue_fill(trade, size)
            return UserFillReport(
                fill_id=fill.fill_id,
                venue_order_id=fill.venue_order_id,
                side=fill.side,
                price=fill.price,
                size=fill.size,
                fee=fill.fee,
                liquidity=fill.liquidity,
                ts_ns=fill.ts_ns,
            )
        except (InvalidMessageError, ValueError) as exc:
            self.bad_notices += 1
            _log.warning("user channel: trade %s left out: %s", trade.trade_id, exc)
            return None


class GlobalUserFeed:
    """The user channels on a trading socket of their own, for the user-feed actor (the
    link's ``user_channels``): started once, stopped once.

    Args:
        url: the trading host's WebSocket.
        client: reads the instruments' contract sizes at start (HTTP).
        signer: authenticates the socket.
        limiter: the venue's shared budget.
        clock: the bot's clock (receive times); ``real_clock`` bounds the socket's I/O.
        tell: tells the executor.
        symbols: the instruments followed.
    """

    def __init__(
        self,
        *,
        url: str,
        client: GlobalDerivativesClient,
        signer: JwtSigner,
        limiter: VenueRateLimiter,
        clock: Clock,
        real_clock: Clock,
        tell: Callable[[object], None],
        symbols: tuple[str, ...],
        timeout_s: float,
    ) -> None:
        self._url = url
        self._client = client
        self._signer = signer
        self._limiter = limiter
        self._clock = clock
        self._real_clock = real_clock
        self._tell = tell
        self._symbols = symbols
        self._timeout_s = timeout_s
        self._socket: RpcSocket | None = None
        self._translator: GlobalUserTranslator | None = None

    def start(self) -> bool:
        """Read the contract sizes and open the socket; False (orders followed by polls) if
        the sizes cannot be read."""
        try:
            listed = {i.instrument_name: i for i in self._client.instruments()}
        except VenueError as exc:
            _log.warning("user channel: reading the instruments failed, not started: %s", exc)
            return False
        finally:
            self._client.http.close()
        sizes = {s: listed[s].contract_size for s in self._symbols if s in listed}
        translator = GlobalUserTranslator(tell=self._tell, clock=self._clock, contract_sizes=sizes)
        self._translator = translator
        socket = RpcSocket(
            url=self._url,
            signer=self._signer,
            limiter=self._limiter,
            clock=self._real_clock,
            on_notice=translator.on_notice,
            on_connected=translator.on_connected,
            on_disconnected=translator.on_disconnected,
            timeout_s=self._timeout_s,
        )
        socket.subscribe(user_channels(sizes))
        self._socket = socket.start()
        return True

    def stop(self) -> None:
        socket, self._socket = self._socket, None
        if socket is not None:
            socket.stop()

    @property
    def healthy(self) -> bool:
        return self._translator is not None and self._translator.healthy

    @property
    def frames(self) -> int:
        return 0 if self._translator is None else self._translator.notices

    @property
    def orders_reported(self) -> int:
        return 0 if self._translator is None else self._translator.orders_reported

    @property
    def times_unhealthy(self) -> int:
        return 0 if self._translator is None else self._translator.times_unhealthy
