"""A venue's own mark feed as the streamer runs it (``VenueLink.market_marks``: the Global
gateway's ``book`` channels): it offers marks to the mark window itself and replaces its own
silent socket; the streamer reads its health on the silence timer (:func:`venue_feed_status`)
and shows it in inspection (:func:`venue_feed_state`)."""

from __future__ import annotations

from perpsbot.actors.market_data._inspection import StreamerState
from perpsbot.messages import FeedState, FeedStatusChanged
from perpsbot.venue.link import VenueMarkFeed


def venue_feed_status(feed: VenueMarkFeed) -> tuple[FeedState, str]:
    """The state ``feed`` is in now, and for people why."""
    if feed.healthy:
        return FeedState.SUBSCRIBED, "market data is flowing"
    return FeedState.RECONNECTING, feed.detail


def venue_feed_state(
    feed: VenueMarkFeed, status: FeedStatusChanged, symbols: tuple[str, ...]
) -> StreamerState:
    """The streamer's inspection while it runs ``feed`` (its last published ``status``)."""
    return StreamerState(
        state=status.state, detail=status.detail, channels=("book",), symbols=symbols,
        feed_restarts=0, feed=None, gaps=0, reconnects=feed.reconnects,
        marks_sent=feed.marks_sent, last_data_age_s=None, bad_timestamps=0, lag=None,
        books_ready=feed.books_ready,
    )  # fmt: skip
