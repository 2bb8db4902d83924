"""Websocket event bodies: the ``events`` entries of each channel, built from engine state."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from perpsbot.sim._market import BID, OFFER, LevelChange, Trade
from perpsbot.sim._orders import order_ws_json
from perpsbot.sim._wire import EPOCH_TIME, dec, rfc3339_us

if TYPE_CHECKING:
    from perpsbot.sim._engine import SimEngine

USER_BATCH = 50
MARKET_CHANNELS = frozenset(
    {"level2", "ticker", "ticker_batch", "market_trades", "candles", "status"}
)
_BBO_FIELDS = ("best_bid", "best_bid_quantity", "best_ask", "best_ask_quantity")
AUTH_CHANNELS = frozenset({"user", "futures_balance_summary"})
CHANNELS = MARKET_CHANNELS | AUTH_CHANNELS | {"heartbeats"}
WIRE_NAME = {"level2": "l2_data"}


def level_json(change: LevelChange, time_text: str) -> dict[str, str]:
    return {
        "side": change.side,
        "event_time": time_text,
        "price_level": dec(change.price),
        "new_quantity": dec(change.size),
    }


def l2_snapshot(engine: SimEngine, pid: str) -> dict[str, Any]:
    bids, asks = engine.published_book(pid)
    levels = [LevelChange(side=BID, price=p, size=bids[p]) for p in sorted(bids, reverse=True)]
    levels += [LevelChange(side=OFFER, price=p, size=asks[p]) for p in sorted(asks)]
    return {
        "type": "snapshot",
        "product_id": pid,
        "updates": [level_json(c, EPOCH_TIME) for c in levels],
    }


def l2_update(pid: str, changes: Iterable[LevelChange], time_ns: int) -> dict[str, Any]:
    stamp = rfc3339_us(time_ns)
    return {"type": "update", "product_id": pid, "updates": [level_json(c, stamp) for c in changes]}


def trade_json(trade: Trade) -> dict[str, str]:
    return {
        "trade_id": trade.trade_id,
        "product_id": trade.product_id,
        "price": dec(trade.price),
        "size": dec(trade.size),
        "side": trade.side,
        "time": rfc3339_us(trade.time_ns),
    }


def trades_snapshot(engine: SimEngine, pids: Iterable[str]) -> dict[str, Any]:
    with engine.lock:
        trades = [t for pid in pids for t in list(engine.markets[pid].trades)[-50:]]
    return {"type": "snapshot", "trades": [trade_json(t) for t in reversed(trades)]}


def trades_by_product(trades: Iterable[Trade]) -> dict[str, list[Trade]]:
    grouped: dict[str, list[Trade]] = defaultdict(list)
    for trade in trades:
        grouped[trade.product_id].append(trade)
    return grouped


def ticker_snapshot(engine: SimEngine, pids: Iterable[str]) -> dict[str, Any]:
    with engine.lock:
        return {"type": "snapshot", "tickers": [engine.ticker_json(pid) for pid in pids]}


def status_snapshot(engine: SimEngine, pids: Iterable[str]) -> dict[str, Any]:
    products = []
    for pid in pids:
        spec = engine.specs[pid]
        products.append(
            {
                "product_type": spec.product_type,
                "id": pid,
                "base_currency": spec.base_currency,
                "quote_currency": spec.quote_currency,
                "base_increment": dec(spec.base_increment),
                "quote_increment": dec(spec.quote_increment),
                "display_name": spec.display_name,
                "status": "online",
                "status_message": "",
                "min_market_funds": dec(spec.quote_min_size),
            }
        )
    return {"type": "snapshot", "products": products}


def user_snapshots(engine: SimEngine, pids: frozenset[str]) -> list[dict[str, Any]]:
    """Open orders in batches of 50 (the last holds fewer), each with the open positions."""
    with engine.lock:
        orders = [
            order_ws_json(o)
            for o in sorted(engine.orders.values(), key=lambda o: o.created_ns)
            if o.is_open and engine.visible(o) and (not pids or o.product_id in pids)
        ]
        expiring = _expiring_positions(engine, pids)
    batches = [orders[i : i + USER_BATCH] for i in range(0, len(orders), USER_BATCH)]
    if not batches or len(batches[-1]) == USER_BATCH:
        batches.append([])
    # The sim's futures are all dated CFM contracts: none is an INTX perpetual.
    positions = {"perpetual_futures_positions": [], "expiring_futures_positions": expiring}
    return [{"type": "snapshot", "orders": batch, "positions": positions} for batch in batches]


def _expiring_positions(engine: SimEngine, pids: frozenset[str]) -> list[dict[str, str]]:
    """Open futures positions as the user channel names them (engine locked)."""
    marks = engine.marks()
    out = []
    for pid, pos in sorted(engine.futures.positions.items()):
        if pos.contracts == 0 or (pids and pid not in pids):
            continue
        spec = engine.specs[pid]
        out.append(
            {
                "product_id": pid,
                "side": "Long" if pos.contracts > 0 else "Short",
                "number_of_contracts": dec(abs(pos.contracts)),
                "realized_pnl": dec(pos.daily_realized),
                "unrealized_pnl": dec(engine.futures.unrealized(spec, marks[pid])),
                "entry_price": dec(pos.avg_entry),
            }
        )
    return out


def user_update(order: dict[str, Any]) -> dict[str, Any]:
    return {"type": "update", "orders": [order]}


def balance_event(kind: str, summary: dict[str, Any]) -> dict[str, Any]:
    return {"type": kind, "fcm_balance_summary": summary}


def heartbeat_event(counter: int, current_time: str) -> dict[str, Any]:
    return {"current_time": current_time, "heartbeat_counter": counter}


def batch_ticker(ticker: dict[str, Any]) -> dict[str, Any]:
    """A ticker as ``ticker_batch`` sends it: without best bid or ask."""
    return {k: v for k, v in ticker.items() if k not in _BBO_FIELDS}


def ticker_batch_snapshot(engine: SimEngine, pids: Iterable[str]) -> dict[str, Any]:
    with engine.lock:
        return {"type": "snapshot", "tickers": [batch_ticker(engine.ticker_json(p)) for p in pids]}


def candles_event(engine: SimEngine, pids: Iterable[str], kind: str) -> dict[str, Any]:
    """The five-minute candle in progress for each product, built from its minute candles."""
    rows = []
    with engine.lock:
        bucket = (engine.now_ns() // 10**9) // 300 * 300
        for pid in pids:
            minutes = [
                c for m, c in engine.markets[pid].candles.items() if bucket <= m < bucket + 300
            ]
            if not minutes:
                mid = engine.markets[pid].mid
                minutes = [[mid, mid, mid, mid, Decimal(0)]]
            rows.append(
                {
                    "start": str(bucket),
                    "high": dec(max(c[1] for c in minutes)),
                    "low": dec(min(c[2] for c in minutes)),
                    "open": dec(minutes[0][0]),
                    "close": dec(minutes[-1][3]),
                    "volume": dec(sum((c[4] for c in minutes), Decimal(0))),
                    "product_id": pid,
                }
            )
    return {"type": kind, "candles": rows}
