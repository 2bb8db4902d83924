"""The REST route table: method and path under ``/api/v3/brokerage`` to an engine call."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from perpsbot.sim import _queries as q
from perpsbot.sim._edit import edit_order
from perpsbot.sim._engine import SimEngine
from perpsbot.sim._order_ops import cancel_orders, close_position, preview_order
from perpsbot.sim._portfolio import portfolio_breakdown, portfolios, transaction_summary
from perpsbot.sim._queries import ApiError, Query, bad_argument
from perpsbot.sim._trading import place_order
from perpsbot.sim._wire import error_body

Handler = Callable[[SimEngine, re.Match[str], Query, dict[str, Any]], dict[str, Any]]
_ID = r"([^/]+)"


def _orders_body(body: dict[str, Any]) -> list[str]:
    ids = body.get("order_ids")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise bad_argument("order_ids must be a list of strings")
    return ids


_GET: list[tuple[str, Handler, bool]] = [
    # (pattern, handler, public)
    (r"/time", lambda e, m, qs, b: q.server_time(e), True),
    (r"/market/products", lambda e, m, qs, b: q.products(e, qs), True),
    (rf"/market/products/{_ID}", lambda e, m, qs, b: q.product(e, m[1]), True),
    (r"/market/product_book", lambda e, m, qs, b: q.product_book(e, qs), True),
    (rf"/market/products/{_ID}/ticker", lambda e, m, qs, b: q.market_trades(e, m[1], qs), True),
    (rf"/market/products/{_ID}/candles", lambda e, m, qs, b: q.candles(e, m[1], qs), True),
    (r"/products", lambda e, m, qs, b: q.products(e, qs), False),
    (rf"/products/{_ID}", lambda e, m, qs, b: q.product(e, m[1]), False),
    (r"/product_book", lambda e, m, qs, b: q.product_book(e, qs), False),
    (r"/best_bid_ask", lambda e, m, qs, b: q.best_bid_ask(e, qs), False),
    (rf"/products/{_ID}/ticker", lambda e, m, qs, b: q.market_trades(e, m[1], qs), False),
    (rf"/products/{_ID}/candles", lambda e, m, qs, b: q.candles(e, m[1], qs), False),
    (r"/accounts", lambda e, m, qs, b: q.accounts(e, qs), False),
    (rf"/accounts/{_ID}", lambda e, m, qs, b: q.account(e, m[1]), False),
    (r"/portfolios", lambda e, m, qs, b: portfolios(e), False),
    (rf"/portfolios/{_ID}", lambda e, m, qs, b: portfolio_breakdown(e, m[1]), False),
    (r"/transaction_summary", lambda e, m, qs, b: transaction_summary(e, qs), False),
    (r"/orders/historical/batch", lambda e, m, qs, b: q.list_orders(e, qs), False),
    (r"/orders/historical/fills", lambda e, m, qs, b: q.list_fills(e, qs), False),
    (rf"/orders/historical/{_ID}", lambda e, m, qs, b: q.get_order(e, m[1]), False),
    (r"/cfm/balance_summary", lambda e, m, qs, b: q.balance_summary(e), False),
    (r"/cfm/positions", lambda e, m, qs, b: q.positions(e), False),
    (rf"/cfm/positions/{_ID}", lambda e, m, qs, b: q.position(e, m[1]), False),
    (r"/cfm/intraday/current_margin_window", lambda e, m, qs, b: q.margin_window(e), False),
]

_POST: list[tuple[str, Handler, bool]] = [
    (r"/orders", lambda e, m, qs, b: place_order(e, b), False),
    (r"/orders/preview", lambda e, m, qs, b: preview_order(e, b), False),
    (r"/orders/batch_cancel", lambda e, m, qs, b: cancel_orders(e, _orders_body(b)), False),
    (r"/orders/close_position", lambda e, m, qs, b: close_position(e, b), False),
    (r"/orders/edit", lambda e, m, qs, b: edit_order(e, b, preview=False), False),
    (r"/orders/edit_preview", lambda e, m, qs, b: edit_order(e, b, preview=True), False),
]

_TABLES = {
    "GET": [(re.compile(p + r"\Z"), h, pub) for p, h, pub in _GET],
    "POST": [(re.compile(p + r"\Z"), h, pub) for p, h, pub in _POST],
}


def resolve(method: str, path: str) -> tuple[Handler, re.Match[str], bool]:
    """The handler for ``path`` (relative to the API prefix); raises 404 ``ApiError``."""
    for pattern, handler, public in _TABLES.get(method, []):
        match = pattern.match(path)
        if match is not None:
            return handler, match, public
    raise ApiError(404, error_body("NOT_FOUND", f"no route for {method} {path}"))


def is_public(method: str, path: str) -> bool:
    try:
        return resolve(method, path)[2]
    except ApiError:
        return False
