"""UserFeedActor: owns the venue's ``user`` channel (the bot's own orders) as a supervised actor.

The websocket thread translates each frame and tells the executor directly
(``UserOrdersReceived``, ``UserFeedChanged``): the order path never waits on this actor's
mailbox. The actor owns the feed's life (started in ``on_start``, stopped when it stops or
fails, so it never outlives an incarnation), and shows its health and counters in the tree,
``status`` and the metrics. A dry run sends nothing, so it follows nothing.

Place it after the executor in a rest_for_one tree: a new executor gets a new connection,
whose first frame tells it the channel is healthy (and makes it read what it missed). A new
incarnation of this actor alone first tells the executor the channel is down: its
predecessor's connection is gone, and what the new one did not see is read once it is up.
"""

from __future__ import annotations

import logging
from typing import Any

from perpsbot.actors.execution._inspection import UserChannelStats, UserFeedState
from perpsbot.actors.execution._user_translator import UserChannel
from perpsbot.config import BotConfig
from perpsbot.messages import UserFeedChanged
from perpsbot.runtime import ActorAddress, ActorContext, BaseActor
from perpsbot.venue.link import VenueLink, VenueUserChannel

__all__ = ["UserFeedActor"]

logger = logging.getLogger("perpsbot.actors.user_feed")


class UserFeedActor(BaseActor):
    """Runs the ``user`` channel for the configured symbols.

    Args:
        context: from the supervisor; ``context.config`` is the :class:`BotConfig`.
        venue: the process's venue link (user URL, signer, shared budget).
        executor: told what the channel reports.
    """

    def __init__(self, *, context: ActorContext, venue: VenueLink, executor: ActorAddress) -> None:
        super().__init__(context=context)
        config: BotConfig = context.config
        self._link = venue
        self._executor = executor
        self._symbols = config.market_data.symbols
        self._dry_run = config.execution.dry_run
        self._channel: UserChannel | VenueUserChannel | None = None
        self._running = False

    def on_start(self) -> None:
        if self._dry_run:
            logger.info("dry run: no user channel (nothing is sent, nothing to follow)")
            return
        # Whatever the executor believed of the last incarnation's connection, it is gone:
        # it polls now, and reads what the gap held once the new connection is healthy.
        self._executor.tell(
            UserFeedChanged(healthy=False, detail="the user feed started a new connection")
        )
        if self._link.user_channels is not None:  # a venue's own channel (Global's)
            self._channel = self._link.user_channels(self._tell_executor, tuple(self._symbols))
        else:
            self._channel = UserChannel(
                link=self._link,
                executor=self._executor,
                clock=self.clock,
                symbols=self._symbols,
                owner_alive=lambda: not self.superseded(),
            )
        self._running = self._channel.start()
        if not self._running:
            logger.warning("no user channel (no URL or no signer): orders are followed by polls")

    def _tell_executor(self, message: object) -> None:
        """On the channel's threads: quiet once this incarnation was replaced."""
        if not self.superseded():
            self._executor.tell(message)

    def on_stop(self) -> None:
        self._stop()

    def on_failure(self, *_: Any) -> None:
        self._stop()  # the feed thread is ours: it must not outlive this incarnation

    def _stop(self) -> None:
        channel, self._channel = self._channel, None
        if channel is not None:
            channel.stop()

    def on_receive(self, message: Any) -> None:
        self.unhandled(message)

    def inspect_state(self) -> UserFeedState:
        channel = self._channel
        stats = None
        if isinstance(channel, UserChannel):
            stats = channel.stats()
        elif channel is not None:
            stats = UserChannelStats(
                healthy=channel.healthy, frames=channel.frames,
                orders_reported=channel.orders_reported, times_unhealthy=channel.times_unhealthy,
            )  # fmt: skip
        return UserFeedState(running=self._running, symbols=tuple(self._symbols), channel=stats)
