"""The equity curve with the trades marked, as one self-contained HTML file (plotly, from the
``perpsbot[report]`` extra: the file embeds plotly.js and opens in a browser offline)."""

from __future__ import annotations

import bisect
from datetime import UTC, datetime
from pathlib import Path

from perpsbot.backtest.report._replay import RoundTrip
from perpsbot.backtest.report._report import BacktestReport
from perpsbot.errors import MissingExtraError

__all__ = ["write_chart"]


def write_chart(report: BacktestReport, path: Path) -> Path:
    """Writes ``report``'s equity curve, each round trip's opening and closing marked on it,
    to ``path`` (HTML) and returns ``path``.

    Raises:
        MissingExtraError: plotly is not installed (``pip install 'perpsbot[report]'``).
    """
    try:
        import plotly.graph_objects as go  # noqa: PLC0415 - an optional extra, loaded when used
    except ModuleNotFoundError as e:
        raise MissingExtraError(
            f"the backtest chart needs plotly, which is not installed ({e}): "
            "pip install 'perpsbot[report]'"
        ) from e
    times = [point.ts_ns for point in report.curve]
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            x=[_time(ts) for ts in times],
            y=[float(point.equity) for point in report.curve],
            mode="lines",
            name="equity (USD)",
            line={"color": "#1f77b4"},
        )
    )
    opened = [(trip, trip.opened_ns) for trip in report.round_trips]
    closed = [(trip, trip.closed_ns) for trip in report.round_trips if trip.closed_ns is not None]
    for name, marks, symbol, color in (
        ("long opened", [m for m in opened if m[0].long], "triangle-up", "#2ca02c"),
        ("short opened", [m for m in opened if not m[0].long], "triangle-down", "#d62728"),
        ("closed", closed, "x", "#333333"),
    ):
        figure.add_trace(
            go.Scatter(
                x=[_time(ts) for _, ts in marks],
                y=[_equity_at(report, times, ts) for _, ts in marks],
                mode="markers",
                name=name,
                marker={"symbol": symbol, "size": 10, "color": color},
                text=[_describe(trip) for trip, _ in marks],
                hoverinfo="text+x",
            )
        )
    figure.update_layout(
        title=(
            f"Backtest equity: {report.starting_equity:,.2f} -> {report.final_equity:,.2f} USD, "
            f"{report.total.trades} trades, net {report.total.net_pnl:,.2f} USD realized"
        ),
        xaxis_title="time (UTC)",
        yaxis_title="equity (USD)",
        template="plotly_white",
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.write_html(str(path), include_plotlyjs=True, full_html=True)
    return path


def _time(ts_ns: int) -> datetime:
    return datetime.fromtimestamp(ts_ns / 1e9, tz=UTC)


def _equity_at(report: BacktestReport, times: list[int], ts_ns: int) -> float:
    """The curve's equity at the last mark at or before ``ts_ns`` (the start's before any)."""
    at = bisect.bisect_right(times, ts_ns) - 1
    return float(report.curve[at].equity if at >= 0 else report.starting_equity)


def _describe(trip: RoundTrip) -> str:
    side = "long" if trip.long else "short"
    state = "open" if trip.closed_ns is None else f"net {trip.net:,.2f} USD"
    return f"{trip.symbol} {side}, {state} ({trip.fills} fills, fees {trip.fees:,.2f})"
