"""The backtest report: the measures of a run, overall and per symbol, from its journal.

See ``docs/backtest.md`` for each measure's definition. PnL, fees and funding are the journal's
own (:func:`perpsbot.journal.pnl_from`); the equity curve, round trips and exposure come from
replaying the same fills and funding against the marks (:mod:`._replay`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from perpsbot.backtest.report._measures import (
    drawdown,
    exposure,
    periods_per_year,
    returns,
    sharpe,
    sortino,
)
from perpsbot.backtest.report._replay import EquityPoint, RoundTrip, replay
from perpsbot.errors import BacktestInputError
from perpsbot.journal import JournalReader, PnlLine, pnl_from

__all__ = ["ANNUALISATION", "BacktestReport", "Measures", "build_report"]

ANNUALISATION = (
    "Sharpe and Sortino from the simple returns between consecutive equity points (one per "
    "bar), x sqrt(periods a year): a 365-day year over the median bar spacing; no risk-free rate"
)
_ZERO = Decimal(0)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TOTAL = "TOTAL"


@attrs.frozen(kw_only=True)
class Measures:
    """One symbol's measures (or the total's, ``symbol`` ``"TOTAL"``). Money in USD."""

    symbol: str
    trades: int
    """Closed round trips (flat to flat)."""
    open_trades: int
    """Round trips still open at the end (not in ``trades`` nor the win rate)."""
    wins: int
    """Closed round trips whose net (after fees and funding) is above zero."""
    fills: int
    gross_pnl: Decimal
    """Realized PnL by average cost, before fees."""
    fees: Decimal
    funding: Decimal
    """Funding booked (positive: received)."""
    net_pnl: Decimal
    """``gross_pnl - fees + funding``: realized, open positions not included."""
    unrealized_pnl: Decimal
    """Of the positions open at the end, at the last mark."""
    max_drawdown_usd: Decimal
    max_drawdown_pct: float
    sharpe: float | None
    sortino: float | None
    exposure: float | None
    """Fraction of the marks' span with a position open (of any symbol, for the total)."""

    @property
    def win_rate(self) -> float | None:
        return self.wins / self.trades if self.trades else None

    def to_json(self) -> dict[str, Any]:
        return {
            "trades": self.trades,
            "open_trades": self.open_trades,
            "wins": self.wins,
            "win_rate": self.win_rate,
            "fills": self.fills,
            "gross_pnl": str(self.gross_pnl),
            "fees": str(self.fees),
            "funding": str(self.funding),
            "net_pnl": str(self.net_pnl),
            "unrealized_pnl": str(self.unrealized_pnl),
            "max_drawdown_usd": str(self.max_drawdown_usd),
            "max_drawdown_pct": self.max_drawdown_pct,
            "sharpe": self.sharpe,
            "sortino": self.sortino,
            "exposure": self.exposure,
        }


@attrs.frozen(kw_only=True)
class BacktestReport:
    starting_equity: Decimal
    final_equity: Decimal
    """Equity at the last mark: starting equity + realized + unrealized, less fees, + funding."""
    total: Measures
    symbols: tuple[Measures, ...]
    """By symbol, sorted."""
    periods_per_year: float | None
    curve: tuple[EquityPoint, ...]
    round_trips: tuple[RoundTrip, ...]

    @property
    def start_ns(self) -> int | None:
        return self.curve[0].ts_ns if self.curve else None

    @property
    def end_ns(self) -> int | None:
        return self.curve[-1].ts_ns if self.curve else None

    def to_json(self) -> dict[str, Any]:
        """For scripts: stable keys; money as exact decimal strings, ratios as numbers (null
        where undefined), times as ISO 8601 UTC."""
        return {
            "start": _iso(self.start_ns),
            "end": _iso(self.end_ns),
            "starting_equity": str(self.starting_equity),
            "final_equity": str(self.final_equity),
            "periods_per_year": self.periods_per_year,
            "annualisation": ANNUALISATION,
            "total": self.total.to_json(),
            "symbols": {m.symbol: m.to_json() for m in self.symbols},
            "round_trips": [
                {
                    "symbol": t.symbol,
                    "side": "long" if t.long else "short",
                    "opened": _iso(t.opened_ns),
                    "closed": _iso(t.closed_ns),
                    "fills": t.fills,
                    "gross_pnl": str(t.gross),
                    "fees": str(t.fees),
                    "funding": str(t.funding),
                    "net_pnl": str(t.net),
                }
                for t in self.round_trips
            ],
        }

    def render(self) -> str:
        """A table for people: one column for the total, one per symbol."""
        columns = (self.total, *self.symbols)
        rows: list[tuple[str, ...]] = [
            ("", *(m.symbol for m in columns)),
            ("trades (round trips)", *(str(m.trades) for m in columns)),
            ("still open at the end", *(str(m.open_trades) for m in columns)),
            ("win rate", *(_percent(m.win_rate) for m in columns)),
            ("gross PnL", *(_money(m.gross_pnl) for m in columns)),
            ("fees", *(_money(m.fees) for m in columns)),
            ("funding", *(_money(m.funding) for m in columns)),
            ("net PnL (realized)", *(_money(m.net_pnl) for m in columns)),
            ("unrealized at the end", *(_money(m.unrealized_pnl) for m in columns)),
            ("max drawdown", *(_money(m.max_drawdown_usd) for m in columns)),
            ("max drawdown %", *(f"{m.max_drawdown_pct:.2f}%" for m in columns)),
            ("Sharpe", *(_ratio(m.sharpe) for m in columns)),
            ("Sortino", *(_ratio(m.sortino) for m in columns)),
            ("exposure", *(_percent(m.exposure) for m in columns)),
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        table = [
            "  ".join(
                cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i])
                for i, cell in enumerate(row)
            ).rstrip()
            for row in rows
        ]
        head = (
            f"Backtest {_iso(self.start_ns) or '-'} -> {_iso(self.end_ns) or '-'}: equity "
            f"{_money(self.starting_equity)} -> {_money(self.final_equity)} USD"
        )
        return "\n".join([head, "", *table, "", f"{ANNUALISATION}."]) + "\n"


def build_report(
    journal_path: Path,
    *,
    marks: Mapping[str, Sequence[tuple[datetime, Decimal]]],
    starting_equity: Decimal,
) -> BacktestReport:
    """The report of the run journaled at ``journal_path``, its equity sampled at ``marks``
    (each symbol's mark prices at time-zone-aware times) from ``starting_equity`` USD.

    Raises:
        BacktestInputError: a naive mark time, or a starting equity that is not positive.
        JournalNotFoundError, JournalFormatError, JournalSchemaError: no journal to read.
    """
    if not isinstance(starting_equity, Decimal) or not starting_equity > 0:
        raise BacktestInputError(
            f"starting_equity must be a positive Decimal (USD), was {starting_equity!r}"
        )
    marks_ns = {
        symbol: sorted((_ns(symbol, ts, mark) for ts, mark in ms), key=_first)
        for symbol, ms in marks.items()
    }
    with JournalReader(journal_path) as reader:
        fills = reader.fills()
        changes = reader.position_changes()
    pnl = pnl_from(fills, changes)
    run = replay(fills, changes, marks_ns, starting_equity=starting_equity)
    times = [point.ts_ns for point in run.curve]
    per_year = periods_per_year(times)
    start_ns, end_ns = (times[0], times[-1]) if times else (0, 0)
    last_mark = {symbol: ms[-1][1] for symbol, ms in marks_ns.items() if ms}
    lines = {line.symbol: line for line in pnl.lines}

    def measures(symbol: str, line: PnlLine | None, equity: list[Decimal]) -> Measures:
        trips = [t for t in run.round_trips if symbol in (_TOTAL, t.symbol)]
        closed = [t for t in trips if t.closed_ns is not None]
        positions = [p for s, p in run.final_positions.items() if symbol in (_TOTAL, s)]
        fall = drawdown(starting_equity, equity)
        period_returns = returns(equity)
        line = line or PnlLine(symbol=symbol, realized=_ZERO, fees=_ZERO, funding=_ZERO, fills=0)
        return Measures(
            symbol=symbol,
            trades=len(closed),
            open_trades=len(trips) - len(closed),
            wins=sum(t.won for t in closed),
            fills=line.fills,
            gross_pnl=line.realized,
            fees=line.fees,
            funding=line.funding,
            net_pnl=line.net,
            unrealized_pnl=sum((p.unrealized(last_mark.get(p.symbol)) for p in positions), _ZERO),
            max_drawdown_usd=fall.usd,
            max_drawdown_pct=fall.pct,
            sharpe=sharpe(period_returns, per_year),
            sortino=sortino(period_returns, per_year),
            exposure=exposure([(t.opened_ns, t.closed_ns) for t in trips], start_ns, end_ns),
        )

    symbols = tuple(
        measures(
            symbol,
            lines.get(symbol),
            [starting_equity + point.pnl_by_symbol[symbol] for point in run.curve],
        )
        for symbol in sorted(run.final_positions)
    )
    return BacktestReport(
        starting_equity=starting_equity,
        final_equity=run.curve[-1].equity if run.curve else starting_equity,
        total=measures(_TOTAL, pnl.total, [point.equity for point in run.curve]),
        symbols=symbols,
        periods_per_year=per_year,
        curve=run.curve,
        round_trips=run.round_trips,
    )


def _ns(symbol: str, ts: datetime, mark: Decimal) -> tuple[int, Decimal]:
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise BacktestInputError(
            f"marks[{symbol!r}] times must be time-zone aware, was naive {ts.isoformat()}"
        )
    if not isinstance(mark, Decimal) or not mark > 0:
        raise BacktestInputError(
            f"marks[{symbol!r}] prices must be positive Decimals, was {mark!r} at {ts.isoformat()}"
        )
    return (ts - _EPOCH) // timedelta(microseconds=1) * 1000, mark


def _first(mark: tuple[int, Decimal]) -> int:
    return mark[0]


def _iso(ts_ns: int | None) -> str | None:
    if ts_ns is None:
        return None
    return (_EPOCH + timedelta(microseconds=ts_ns // 1000)).isoformat().replace("+00:00", "Z")


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"
