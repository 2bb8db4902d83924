"""A run in a few figures: what was played, how fast, and the journal's PnL."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import attrs

from perpsbot.backtest._run import BacktestResult
from perpsbot.journal import JournalReader

__all__ = ["money", "summary_of"]


def summary_of(result: BacktestResult) -> dict[str, Any]:
    """The run in a few figures: what was played, how fast, and the journal's PnL."""
    with JournalReader(result.journal_path) as reader:
        pnl = reader.pnl()
        trades = len(reader.trades())
    total = pnl.total
    return {
        "journal": str(result.journal_path),
        "span": f"{_iso(result.first_s)} to {_iso(result.until_s)}",
        "bars": result.bars,
        "elapsed_s": round(result.elapsed_s, 3),
        "bars_per_s": round(result.bars / result.elapsed_s, 1) if result.elapsed_s else None,
        "starting_equity": money(result.starting_equity),
        "orders": trades,
        "fills": total.fills,
        "realized_pnl": money(total.realized),
        "fees": money(total.fees),
        "funding": money(total.funding),
        "net_pnl": money(total.net),
        "counts": attrs.asdict(result.counts),
    }


def money(value: Decimal) -> str:
    return format(value.quantize(Decimal("0.01")), "f")


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%MZ")
