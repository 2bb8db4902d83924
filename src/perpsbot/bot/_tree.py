"""The bot's actor tree: which actors, in which order, depending on which config keys."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from perpsbot.actors import (
    MarkWindowActor,
    QuotePollerActor,
    StreamerActor,
    mark_window_mailbox,
    poller_mailbox,
    streamer_mailbox,
)
from perpsbot.bot._reporter import ConsoleReporter
from perpsbot.bot._sections import keys
from perpsbot.bot._venue import VENUE_LINK, VenueLinks
from perpsbot.config import BotConfig
from perpsbot.messages import FeedStatusChanged, MarksSampled, PendingMark
from perpsbot.runtime import (
    ActorContext,
    ChildSpec,
    Coalescer,
    ConflatingMailbox,
    Intensity,
    Strategy,
    SupervisorSpec,
)
from perpsbot.venue.link import VenueLink, longest_rest_call_s

__all__ = ["bot_spec"]

ROOT = "bot"
_MARKS = keys("market_data", "symbols", "update_interval_s", "stale_after_s", "short_ma", "long_ma")
_STREAMER = keys("market_data", "symbols", "streaming", "channel", "stale_after_s") | {VENUE_LINK}
_POLLER = keys("market_data", "symbols", "streaming", "poll_interval_s") | {VENUE_LINK}
_REPORTER = frozenset({VENUE_LINK})


def _reporter_key(message: Any) -> Hashable | None:
    if type(message) is FeedStatusChanged:
        return "feed state"
    return "cycle" if type(message) is MarksSampled else None


def bot_spec(
    config: BotConfig, venue: VenueLink | VenueLinks, *, report: bool = False
) -> SupervisorSpec:
    """The tree under the ``bot`` supervisor (rest_for_one: later actors use earlier ones).

    Args:
        config: sizes the restart intensity and shutdown timeouts.
        venue: the venue link every venue-facing actor shares; with :class:`VenueLinks`, a
            reload that changes ``venue.*`` (or ``sim.*`` of an embedded exchange) restarts
            the actors that use the venue on a new link.
        report: add a console reporter that prints each cycle (``perpsbot run``).
    """
    runtime = config.runtime
    # The feed thread offers marks here and the mark window takes them: shared by
    # construction, outliving both actors' restarts (its wake-up is a plain token).
    feed_marks: Coalescer[str, PendingMark] = Coalescer("feed-marks")

    def link(ctx: ActorContext) -> VenueLink:
        return venue.link_for(ctx.config) if isinstance(venue, VenueLinks) else venue

    def marks(ctx: ActorContext) -> MarkWindowActor:
        return MarkWindowActor(context=ctx, feed_marks=feed_marks)

    def streamer(ctx: ActorContext) -> StreamerActor:
        return StreamerActor(context=ctx, venue=link(ctx), feed_marks=feed_marks)

    # A polling round is REST calls with retries, all within this together (the poller
    # bounds each round by it), and the watchdog allows the poller this long: a slow venue
    # is never a hung poller. Fixed at start-up, as the hang timeout is.
    poll_round_s = longest_rest_call_s(config.venue.request_timeout_s)

    def poller(ctx: ActorContext) -> QuotePollerActor:
        address = ctx.system.address
        return QuotePollerActor(
            context=ctx,
            venue=link(ctx),
            marks=address(f"{ROOT}/marks"),
            streamer=address(f"{ROOT}/streamer"),
            round_s=poll_round_s,
        )

    def reporter(ctx: ActorContext) -> ConsoleReporter:
        address = ctx.system.address
        return ConsoleReporter(
            context=ctx,
            venue=link(ctx),
            marks=address(f"{ROOT}/marks"),
            streamer=address(f"{ROOT}/streamer"),
        )

    timeout_s = runtime.shutdown_timeout_s

    def reporter_mailbox() -> ConflatingMailbox:
        # What the reporter prints are statuses: the latest feed state and the latest cycle
        # win, so a slow console never queues them (nothing else is told to it).
        return ConflatingMailbox(key_of=_reporter_key)

    children = [
        ChildSpec(
            name="marks",
            factory=marks,
            mailbox=mark_window_mailbox,
            config_sections=_MARKS,
            live_sections=_MARKS,
            shutdown_timeout_s=timeout_s,
            restart_buffer=runtime.restart_buffer_capacity,
        ),
        ChildSpec(
            name="streamer",
            factory=streamer,
            mailbox=streamer_mailbox,
            config_sections=_STREAMER,
            shutdown_timeout_s=timeout_s + 5.0,  # joins the feed thread
            hang_timeout_s=runtime.watchdog_timeout_s + 5.0,  # replacing a feed joins it
            restart_buffer=runtime.restart_buffer_capacity,
        ),
        ChildSpec(
            name="poller",
            factory=poller,
            mailbox=poller_mailbox,
            config_sections=_POLLER,
            shutdown_timeout_s=timeout_s + poll_round_s,  # may be mid-round
            hang_timeout_s=runtime.watchdog_timeout_s + poll_round_s,
            restart_buffer=runtime.restart_buffer_capacity,
        ),
    ]
    if report:
        children.append(
            ChildSpec(
                name="reporter",
                factory=reporter,
                mailbox=reporter_mailbox,
                config_sections=_REPORTER,
                shutdown_timeout_s=timeout_s + config.venue.request_timeout_s,
            )
        )
    return SupervisorSpec(
        name=ROOT,
        strategy=Strategy.REST_FOR_ONE,
        intensity=Intensity(max_restarts=runtime.max_restarts, window_s=runtime.restart_window_s),
        children=tuple(children),
        shutdown_timeout_s=timeout_s * (len(children) + 1),
    )
