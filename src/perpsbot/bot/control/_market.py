"""The control plane's view of the market-data tree: marks, the feed, the poller.

What the shell helpers, ``/readyz``, ``/metrics`` and ``perpsbot status`` know about market
data, read from the actors' states (``bot/marks``, ``bot/streamer``, ``bot/poller``).
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from typing import Any

import attrs
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from perpsbot.actors import MarkWindowState, QuotePollerState, StreamerState
from perpsbot.control import Check, StatusSection, Table, state_or_none
from perpsbot.messages import FeedLag, FeedState
from perpsbot.runtime import ActorSystem

__all__ = ["MarketDataCollector", "feed_report", "feed_section", "mark_table", "marks_fresh"]


def _plain(_instance: Any, _field: Any, value: Any) -> Any:
    """Enums as their values, so a state prints and serializes as plain data."""
    return value.value if isinstance(value, enum.Enum) else value


def mark_table(marks: MarkWindowState) -> Table:
    """One row per configured symbol: mark, source, age and window length."""
    rows = []
    for symbol in marks.symbols:
        mark = marks.latest.get(symbol)
        rows.append(
            (
                symbol,
                None if mark is None else mark.mark,
                None if mark is None else mark.source.value,
                None if mark is None else mark.age_s,
                len(marks.windows.get(symbol, ())),
            )
        )
    return Table(("symbol", "mark", "source", "age_s", "window"), rows)


def feed_report(system: ActorSystem, root: str) -> dict[str, Any] | None:
    """The streamer's view of the feed and the poller's mode, as plain data (None while the
    streamer does not answer)."""
    streamer = state_or_none(system, f"{root}/streamer", StreamerState)
    if streamer is None:
        return None
    poller = state_or_none(system, f"{root}/poller", QuotePollerState)
    report = attrs.asdict(streamer, value_serializer=_plain)
    report["poller"] = None if poller is None else {"mode": poller.mode, "polls": poller.polls}
    return report


def _render_feed(report: dict[str, Any]) -> str:
    feed = report.get("feed") or {}
    age = report.get("last_data_age_s")
    lag = report.get("lag") or {}
    lag_s, count = lag.get("latest_s"), lag.get("count", 0)
    mean = f" (mean {lag['sum_s'] / count * 1000:.1f} ms)" if count else ""
    poller = report.get("poller") or {}
    return (
        f"{report['state']} ({report['detail']}); reconnects {report['reconnects']},"
        f" gaps {report['gaps']}, frames {feed.get('frames', 0)}, last data"
        f" {'-' if age is None else f'{age:.1f}s'} ago,"
        f" lag {'-' if lag_s is None else f'{lag_s * 1000:.1f} ms'}{mean};"
        f" poller {poller.get('mode', '-')}"
    )


def feed_section(system: ActorSystem, root: str) -> StatusSection:
    """The ``feed`` line of the status."""
    return StatusSection(
        name="feed", collect=lambda: feed_report(system, root), render=_render_feed
    )


def marks_fresh(system: ActorSystem, root: str) -> Check:
    """Readiness: every configured symbol has a mark younger than ``stale_after_s``."""

    def problem() -> str | None:
        state = state_or_none(system, f"{root}/marks", MarkWindowState)
        if state is None:
            return f"{root}/marks does not answer"
        limit = state.stale_after_s
        issues = []
        for symbol in state.symbols:
            mark = state.latest.get(symbol)
            if mark is None:
                issues.append(f"{symbol} has no mark yet")
            elif mark.age_s > limit:
                issues.append(f"{symbol}'s mark is {mark.age_s:.1f}s old (stale after {limit}s)")
        return "; ".join(issues) or None

    return Check(name="marks", problem=problem)


class MarketDataCollector(Collector):
    """Feed state, lag (exchange timestamp to receipt) and data age, frames, gaps,
    reconnects, marks by source, each symbol's mark age, REST polls."""

    def __init__(self, system: ActorSystem, root: str) -> None:
        self._system = system
        self._root = root

    def collect(self) -> Iterator[Metric]:
        streamer = state_or_none(self._system, f"{self._root}/streamer", StreamerState)
        poller = state_or_none(self._system, f"{self._root}/poller", QuotePollerState)
        marks = state_or_none(self._system, f"{self._root}/marks", MarkWindowState)
        by_source = CounterMetricFamily(
            "perpsbot_marks", "marks handed to the mark window, by source", labels=["source"]
        )
        if streamer is not None:
            yield from self._feed(streamer)
            by_source.add_metric(["stream"], streamer.marks_sent)
        if poller is not None:
            by_source.add_metric(["poll"], poller.marks_sent)
            yield CounterMetricFamily("perpsbot_poller_polls", "REST polls", value=poller.polls)
        yield by_source
        if marks is not None:
            age = GaugeMetricFamily(
                "perpsbot_mark_age_seconds", "age of each symbol's latest mark", labels=["symbol"]
            )
            for symbol, mark in marks.latest.items():
                age.add_metric([symbol], mark.age_s)
            yield age

    def _feed(self, streamer: StreamerState) -> Iterator[Metric]:
        state = GaugeMetricFamily(
            "perpsbot_feed_state", "1 for the feed's current state", labels=["state"]
        )
        for candidate in FeedState:
            state.add_metric([candidate.value], 1 if candidate is streamer.state else 0)
        yield state
        yield CounterMetricFamily(
            "perpsbot_feed_gaps", "sequence gaps detected", value=streamer.gaps
        )
        yield CounterMetricFamily(
            "perpsbot_feed_reconnects", "reconnect attempts", value=streamer.reconnects
        )
        feed, age_s = streamer.feed, streamer.last_data_age_s
        if feed is not None:
            yield CounterMetricFamily("perpsbot_feed_frames", "frames received", value=feed.frames)
            yield CounterMetricFamily(
                "perpsbot_feed_decode_errors",
                "frames that did not decode",
                value=feed.decode_errors,
            )
        if age_s is not None:
            yield GaugeMetricFamily(
                "perpsbot_feed_data_age_seconds",
                "seconds since the feed last delivered market data",
                value=age_s,
            )
        lag = streamer.lag
        if lag is not None:
            yield _lag_histogram(lag)


def _lag_histogram(lag: FeedLag) -> HistogramMetricFamily:
    """The current feed's lag histogram (it restarts from zero with the feed, as a counter)."""
    buckets = [(repr(bound), float(n)) for bound, n in zip(lag.bounds_s, lag.counts, strict=True)]
    return HistogramMetricFamily(
        "perpsbot_feed_lag_seconds",
        "market data's lag: from the exchange's timestamp to its receipt here (sampled: the"
        " latest message of each symbol at a socket read, at most every 10 ms)",
        buckets=[*buckets, ("+Inf", float(lag.count))],
        sum_value=lag.sum_s,
    )
