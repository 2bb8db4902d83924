"""The views ``perpsbot journal`` prints: records as plain dicts, then tables or JSON."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from perpsbot.journal._pnl import PnlLine
from perpsbot.journal._reader import JournalReader, Trade
from perpsbot.messages import OrderUpdated, TransitionSource

__all__ = ["VIEWS", "render_json", "render_text"]

Record = dict[str, Any]


def _time(ts_ns: int) -> str:
    return datetime.fromtimestamp(ts_ns / 1e9, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _trade(trade: Trade) -> Record:
    intent, order = trade.intent, trade.order
    source = intent if intent is not None else order
    assert source is not None  # a trade is an intent, an adopted order, or both
    return {
        "time": _time(source.ts_created_ns),
        "ts_ns": source.ts_created_ns,
        "intent_id": None if intent is None else intent.intent_id,
        "client_order_id": trade.client_order_id,
        "symbol": source.symbol,
        "side": source.side.value,
        "purpose": source.purpose.value,
        "size": str(source.size),
        "status": _status(order),
        "filled": str(trade.filled_size),
        "average_price": _text(trade.average_price),
        "fees": str(trade.fees),
        "fills": len(trade.fills),
        "reason": "adopted from the venue" if intent is None else intent.reason,
    }


def _status(order: OrderUpdated | None) -> str:
    """An order's status as the journal shows it: a dry run's order was never sent, so it
    shows as ``dry run`` rather than the ``cancelled`` that ends it."""
    if order is None:
        return "recorded"
    if order.source is TransitionSource.DRY_RUN:
        return "dry run"
    return order.status.value


def trades(reader: JournalReader, since_ns: int | None, symbol: str | None) -> list[Record]:
    return [_trade(t) for t in reader.trades(since_ns=since_ns, symbol=symbol)]


def fills(reader: JournalReader, since_ns: int | None, symbol: str | None) -> list[Record]:
    return [
        {
            "time": _time(f.ts_event_ns),
            "ts_ns": f.ts_event_ns,
            "fill_id": f.fill_id,
            "symbol": f.symbol,
            "side": f.side.value,
            "size": str(f.size),
            "price": str(f.price),
            "fee": str(f.fee),
            "liquidity": f.liquidity,
            "purpose": f.purpose.value,
            "intent_id": f.intent_id,
            "client_order_id": f.client_order_id,
        }
        for f in reader.fills(since_ns=since_ns, symbol=symbol)
    ]


def _pnl_line(line: PnlLine) -> Record:
    return {
        "symbol": line.symbol,
        "fills": line.fills,
        "realized": str(line.realized),
        "fees": str(line.fees),
        "funding": str(line.funding),
        "net": str(line.net),
    }


def pnl(reader: JournalReader, since_ns: int | None, symbol: str | None) -> list[Record]:
    report = reader.pnl(since_ns=since_ns, symbol=symbol)
    return [*(_pnl_line(line) for line in report.lines), _pnl_line(report.total)]


def states(reader: JournalReader, since_ns: int | None, symbol: str | None) -> list[Record]:
    return [
        {
            "time": _time(s.ts_created_ns),
            "ts_ns": s.ts_created_ns,
            "previous": None if s.previous is None else s.previous.value,
            "state": s.state.value,
            "reason": s.reason,
            "holding": list(s.reasons),
        }
        for s in reader.trading_state_changes(since_ns=since_ns)
    ]


View = Callable[[JournalReader, int | None, str | None], list[Record]]

#: Each view's records, in the order ``all`` prints them.
VIEWS: dict[str, View] = {"trades": trades, "fills": fills, "pnl": pnl, "states": states}

_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "trades": (
        ("time (UTC)", "time"), ("intent", "intent_id"), ("symbol", "symbol"), ("side", "side"),
        ("purpose", "purpose"), ("size", "size"), ("status", "status"), ("filled", "filled"),
        ("avg price", "average_price"), ("fees", "fees"), ("fills", "fills"),
        ("reason", "reason"),
    ),
    "fills": (
        ("time (UTC)", "time"), ("symbol", "symbol"), ("side", "side"), ("size", "size"),
        ("price", "price"), ("fee", "fee"), ("liq", "liquidity"), ("purpose", "purpose"),
        ("fill id", "fill_id"), ("intent", "intent_id"),
    ),
    "pnl": (
        ("symbol", "symbol"), ("fills", "fills"), ("realized", "realized"), ("fees", "fees"),
        ("funding", "funding"), ("net", "net"),
    ),
    "states": (
        ("time (UTC)", "time"), ("from", "previous"), ("to", "state"), ("reason", "reason"),
        ("holding", "holding"),
    ),
}  # fmt: skip
_TITLES = {
    "trades": "Trades (intent -> order -> fills)",
    "fills": "Fills",
    "pnl": "PnL in USD (realized by average cost; net = realized - fees + funding)",
    "states": "Trading state changes",
}


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return "; ".join(value) or "-"
    return str(value)


def _table(columns: tuple[tuple[str, str], ...], records: list[Record]) -> list[str]:
    header = [title for title, _ in columns]
    rows = [[_cell(record[key]) for _, key in columns] for record in records]
    widths = [max(len(c) for c in column) for column in zip(header, *rows, strict=True)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return [line.rstrip() for line in lines]


def render_text(header: Record, views: dict[str, list[Record]]) -> str:
    """Tables, one per view, under a line naming the journal and the filters."""
    filters = [f"since {_time(header['since_ns'])} UTC"] if header["since_ns"] is not None else []
    filters += [header["symbol"]] if header["symbol"] else []
    lines = [f"journal {header['journal']}" + (f" ({', '.join(filters)})" if filters else "")]
    for view, records in views.items():
        lines += ["", _TITLES[view]]
        lines += _table(_COLUMNS[view], records) if records else ["(none)"]
    return "\n".join(lines) + "\n"


def render_json(header: Record, views: dict[str, list[Record]]) -> str:
    """One JSON object: the journal, the filters and each view's records (money as text)."""
    return json.dumps({**header, **views}, indent=2)
