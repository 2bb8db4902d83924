"""Turns the ``user`` channel's frames and the feed's status into executor messages.

It runs on the user feed's thread and only tells: no REST call, no order state. A connection
counts as healthy from the first ``user`` frame after it subscribed (the venue answers a
subscribe with a snapshot of the open orders), and unhealthy from any disconnect, silence or
sequence gap until then: while it is unhealthy the executor polls its orders over REST.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from perpsbot.actors.execution._inspection import UserChannelStats
from perpsbot.clock import Clock
from perpsbot.errors import InvalidMessageError
from perpsbot.messages import (
    FeedDisconnected,
    FeedGapDetected,
    FeedReconnecting,
    FeedStale,
    FeedStatus,
    FeedStopped,
    FeedSubscribed,
    UserFeedChanged,
    UserOrderReport,
    UserOrdersReceived,
)
from perpsbot.runtime import ActorAddress
from perpsbot.venue import (
    Frame,
    UserFrame,
    UserOrderUpdate,
    WebSocketFeed,
)
from perpsbot.venue.link import VenueLink

logger = logging.getLogger("perpsbot.actors.user_feed")

#: Silence after which the user channel (heartbeats every second) counts as stale.
_STALE_AFTER_S = 5.0


def _reports(orders: tuple[UserOrderUpdate, ...]) -> tuple[UserOrderReport, ...]:
    """The bot's records of the venue's: an order the bot cannot hold (a negative size) is
    logged and left out, the rest of its frame still goes through."""
    reports = []
    for order in orders:
        try:
            reports.append(
                UserOrderReport(
                    venue_order_id=order.order_id,
                    client_order_id=order.client_order_id,
                    status=order.status,
                    filled_size=order.cumulative_quantity,
                    average_price=order.avg_price,
                )
            )
        except InvalidMessageError as err:
            logger.warning("user channel: order %s left out: %s", order.order_id, err)
    return tuple(reports)


class UserTranslator:
    """The user feed's callbacks.

    Args:
        executor: where the messages go.
        clock: stamps receive times.
        owner_alive: False once the executor incarnation that owns the feed was replaced
            (abandoned as hung, so it never stopped its feed): the translator then goes quiet
            and stops the feed bound with :meth:`bind_feed`.
    """

    def __init__(
        self,
        *,
        executor: ActorAddress,
        clock: Clock,
        owner_alive: Callable[[], bool] = lambda: True,
    ) -> None:
        self._executor: ActorAddress | None = executor
        self._clock = clock
        self._owner_alive = owner_alive
        self._stop_feed: Callable[[], object] | None = None
        self._healthy = False
        self.frames = 0
        self.orders_reported = 0
        self.times_unhealthy = 0

    @property
    def healthy(self) -> bool:
        return self._healthy

    def bind_feed(self, stop: Callable[[], object]) -> None:
        self._stop_feed = stop

    def detach(self) -> None:
        """Go quiet: the executor that owned the feed is stopping it."""
        self._executor = None

    def _target(self) -> ActorAddress | None:
        executor = self._executor
        if executor is not None and not self._owner_alive():
            self.detach()
            if self._stop_feed is not None:
                self._stop_feed()
            return None
        return executor

    def on_frame(self, frame: Frame) -> None:
        if type(frame) is not UserFrame:
            return
        executor = self._target()
        if executor is None:
            return
        self.frames += 1
        if not self._healthy:
            self._healthy = True
            executor.tell(UserFeedChanged(healthy=True, detail="user channel updates flow"))
        now = self._clock.time_ns()
        for event in frame.events:
            orders = _reports(event.orders)
            if orders:
                self.orders_reported += len(orders)
                executor.tell(
                    UserOrdersReceived(
                        orders=orders, snapshot=event.is_snapshot, ts_received_ns=now
                    )
                )

    def on_status(self, status: FeedStatus) -> None:
        executor = self._target()
        if executor is None:
            return
        match status:
            case FeedSubscribed():
                return  # healthy only once the subscription answers (see on_frame)
            case FeedGapDetected(expected=expected, found=found):
                detail = f"sequence gap: expected {expected}, found {found}"
            case FeedStale(silent_s=silent_s):
                detail = f"silent for {silent_s:.1f}s"
            case FeedDisconnected(reason=reason) | FeedReconnecting(reason=reason):
                detail = f"disconnected: {reason}"
            case FeedStopped():
                detail = "the user feed stopped"
            case _:
                return
        # A gap may have cost updates: even if the socket stays up, poll once to catch up;
        # the next frame makes the feed healthy again.
        if self._healthy:
            self.times_unhealthy += 1
        self._healthy = False
        executor.tell(UserFeedChanged(healthy=False, detail=detail))


class UserChannel:
    """The user feed with its translator: started once, stopped once.

    Args:
        link: the venue link (user URL, signer, shared budget).
        executor: where the translator tells.
        clock: time.
        symbols: the products whose orders the feed follows.
        owner_alive: see :class:`UserTranslator`.
    """

    def __init__(
        self,
        *,
        link: VenueLink,
        executor: ActorAddress,
        clock: Clock,
        symbols: tuple[str, ...],
        owner_alive: Callable[[], bool],
    ) -> None:
        self._translator = UserTranslator(executor=executor, clock=clock, owner_alive=owner_alive)
        self._feed: WebSocketFeed | None = link.user_feed(
            product_ids=symbols,
            on_frame=self._translator.on_frame,
            on_status=self._translator.on_status,
            stale_after_s=_STALE_AFTER_S,
        )

    def start(self) -> bool:
        """Start the feed; False if the venue link has no user channel (no URL or signer)."""
        if self._feed is None:
            return False
        self._translator.bind_feed(self._feed.stop)
        self._feed.start()
        return True

    def stats(self) -> UserChannelStats:
        """For inspection: health and what went through (read from another thread)."""
        translator = self._translator
        return UserChannelStats(
            healthy=translator.healthy,
            frames=translator.frames,
            orders_reported=translator.orders_reported,
            times_unhealthy=translator.times_unhealthy,
        )

    def stop(self) -> None:
        self._translator.detach()
        feed, self._feed = self._feed, None
        if feed is not None and not feed.stop(timeout_s=5.0):
            logger.error("the user feed thread did not stop within 5s; it is abandoned")
