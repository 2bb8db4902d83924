"""The engine's events as the gateway's notifications, built on the engine's thread under its
lock (so each reads one consistent state), then handed to the WebSocket loop in order."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from perpsbot.sim._events import (
    BookChanged,
    FuturesBalanceChanged,
    OrderChanged,
    SimEvent,
    TickerChanged,
)
from perpsbot.sim._market import BID
from perpsbot.sim.gateway._api import GatewayApi
from perpsbot.sim.gateway._views import account_json, instruments, ms, order_json, trade_json

if TYPE_CHECKING:
    from perpsbot.sim._products import SimProduct

PORTFOLIO = "user.portfolio.usdc"


@attrs.frozen(kw_only=True)
class Notice:
    """One notification for every session subscribed to ``prefix`` + any interval (or to
    ``prefix`` itself); ``change_id`` orders book changes against a snapshot."""

    prefix: str
    data: Any
    change_id: int = 0


class NoticeMaker:
    """Turns engine events into notices; keeps each book's ``change_id``."""

    def __init__(self, api: GatewayApi) -> None:
        self.api = api
        self.change_ids: dict[str, int] = {}
        self._fills_sent: dict[str, int] = {}
        self._names: dict[str, str] = {
            spec.product_id: name for name, spec in instruments(api.engine).items()
        }

    def notices(self, event: SimEvent) -> list[Notice]:
        if isinstance(event, BookChanged):
            name = self._names.get(event.product_id)
            return [] if name is None else [self._book_change(name, event)]
        if isinstance(event, TickerChanged):
            name = self._names.get(event.product_id)
            if name is None:
                return []
            return [
                Notice(prefix=f"ticker.{name}.", data=self.api.ticker(name)),
                Notice(prefix=f"perpetual.{name}.", data=self.api.funding(name)),
            ]
        if isinstance(event, OrderChanged):
            return self._order(str(event.order.get("order_id", "")))
        if isinstance(event, FuturesBalanceChanged):
            return [Notice(prefix=PORTFOLIO, data=account_json(self.api.engine))]
        return []

    def _book_change(self, name: str, event: BookChanged) -> Notice:
        spec = instruments(self.api.engine)[name]
        previous = self.change_ids.get(name, 0)
        change_id = previous + 1
        self.change_ids[name] = change_id
        bids: list[list[object]] = []
        asks: list[list[object]] = []
        for change in event.changes:
            action = "delete" if change.size == 0 else "change"
            level = [action, change.price, change.size * spec.contract_size]
            (bids if change.side == BID else asks).append(level)
        data = {
            "type": "change",
            "instrument_name": name,
            "timestamp": ms(event.time_ns),
            "change_id": change_id,
            "prev_change_id": previous,
            "bids": bids,
            "asks": asks,
        }
        return Notice(prefix=f"book.{name}.", data=data, change_id=change_id)

    def snapshot(self, name: str) -> Notice:
        """The book of ``name`` now, as the first notification of a subscription."""
        engine = self.api.engine
        spec: SimProduct = instruments(engine)[name]
        with engine.lock:
            bids, asks = engine.published_book(spec.product_id)
            change_id = self.change_ids.get(name, 0)
            size = spec.contract_size
            data = {
                "type": "snapshot",
                "instrument_name": name,
                "timestamp": ms(engine.now_ns()),
                "change_id": change_id,
                "bids": [["new", p, bids[p] * size] for p in sorted(bids, reverse=True)],
                "asks": [["new", p, asks[p] * size] for p in sorted(asks)],
            }
        return Notice(prefix=f"book.{name}.", data=data, change_id=change_id)

    def _order(self, order_id: str) -> list[Notice]:
        ledger, engine = self.api.ledger, self.api.engine
        extra = ledger.extra(order_id)
        order = engine.orders.get(order_id)
        if extra is None or order is None:
            return []  # not the gateway's, or not labelled yet (place publishes it again)
        name = extra.instrument
        notices = [Notice(prefix=f"user.orders.{name}.", data=order_json(order, extra))]
        fills = ledger.fills_of(order_id)
        sent = self._fills_sent.get(order_id, 0)
        if len(fills) > sent:
            self._fills_sent[order_id] = len(fills)
            trades = [trade_json(f, order, extra, sent + i) for i, f in enumerate(fills[sent:], 1)]
            notices.append(Notice(prefix=f"user.trades.{name}.", data=trades))
            notices.append(Notice(prefix=PORTFOLIO, data=account_json(engine)))
        return notices
