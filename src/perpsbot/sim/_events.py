"""What the engine tells the websocket hub, already in wire form where that is cheaper."""

from __future__ import annotations

from typing import Any

import attrs

from perpsbot.sim._market import LevelChange, Trade


@attrs.frozen(kw_only=True)
class BookChanged:
    product_id: str
    changes: tuple[LevelChange, ...]
    time_ns: int


@attrs.frozen(kw_only=True)
class TradesPrinted:
    trades: tuple[Trade, ...]


@attrs.frozen(kw_only=True)
class TickerChanged:
    product_id: str
    ticker: dict[str, Any]


@attrs.frozen(kw_only=True)
class OrderChanged:
    order: dict[str, Any]  # user-channel shape


@attrs.frozen(kw_only=True)
class FuturesBalanceChanged:
    summary: dict[str, Any]  # futures_balance_summary shape


SimEvent = BookChanged | TradesPrinted | TickerChanged | OrderChanged | FuturesBalanceChanged
