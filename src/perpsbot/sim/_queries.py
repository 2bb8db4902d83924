"""Read-only REST answers: products, books, trades, candles, accounts, orders, fills, CFM."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from perpsbot.candle_sizes import GRANULARITY_S, PAGE_CANDLES
from perpsbot.cfm_calendar import window_ends_ns
from perpsbot.sim._accounts import summary_rest_json
from perpsbot.sim._orders import fill_json, order_rest_json
from perpsbot.sim._products import product_json
from perpsbot.sim._wire import dec, error_body, parse_rfc3339_ns, rfc3339_s, rfc3339_us

if TYPE_CHECKING:
    from perpsbot.sim._engine import SimEngine

Query = dict[str, list[str]]


class ApiError(Exception):
    """An HTTP error answer: status and Coinbase's error body."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"{status} {body.get('message', '')}")
        self.status = status
        self.body = body


def not_found(message: str = "valid product_id is required") -> ApiError:
    return ApiError(404, error_body("NOT_FOUND", message))


def bad_argument(message: str) -> ApiError:
    return ApiError(400, error_body("INVALID_ARGUMENT", message))


def _one(query: Query, key: str, default: str | None = None) -> str | None:
    values = query.get(key)
    return values[0] if values else default


def _int(query: Query, key: str, default: int, maximum: int) -> int:
    raw = _one(query, key)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise bad_argument(f"{key} must be an integer, was {raw!r}") from exc
    if value < 0:
        raise bad_argument(f"{key} must be >= 0, was {value}")
    return min(value, maximum) if value else default


def _page(items: list[Any], query: Query, default: int, maximum: int) -> tuple[list[Any], str]:
    """One page and the cursor of the next ("" when there is none)."""
    limit = _int(query, "limit", default, maximum)
    cursor = _one(query, "cursor", "") or "0"
    if not cursor.isdigit():
        raise bad_argument(f"cursor is not valid, was {cursor!r}")
    start = int(cursor)
    page = items[start : start + limit]
    return page, str(start + limit) if start + limit < len(items) else ""


def spec_or_404(engine: SimEngine, pid: str) -> None:
    if pid not in engine.specs:
        raise not_found()


def products(engine: SimEngine, query: Query) -> dict[str, Any]:
    with engine.lock:
        wanted = set(query.get("product_ids", []))
        ptype = _one(query, "product_type")
        if _one(query, "contract_expiry_type") is not None:
            ptype = "FUTURE"  # only futures have an expiry type (CDE perps report EXPIRING)
        found = [
            product_json(spec, engine.product_live(pid))
            for pid, spec in engine.specs.items()
            if (not wanted or pid in wanted) and (ptype is None or spec.product_type == ptype)
        ]
        offset = _int(query, "offset", 0, 10_000)
        limit = _int(query, "limit", len(found) or 1, 10_000)
        found = found[offset : offset + limit]
        return {"products": found, "num_products": len(found), "pagination": None}


def product(engine: SimEngine, pid: str) -> dict[str, Any]:
    with engine.lock:
        spec_or_404(engine, pid)
        return product_json(engine.specs[pid], engine.product_live(pid))


def _levels(levels: list[tuple[Decimal, Decimal]]) -> list[dict[str, str]]:
    return [{"price": dec(price), "size": dec(size)} for price, size in levels]


def _pricebook(engine: SimEngine, pid: str, limit: int) -> dict[str, Any]:
    bids, asks = engine.published_top(pid, limit)
    return {
        "product_id": pid,
        "bids": _levels(bids),
        "asks": _levels(asks),
        "time": rfc3339_us(engine.now_ns()),
    }


def product_book(engine: SimEngine, query: Query) -> dict[str, Any]:
    with engine.lock:
        pid = _one(query, "product_id", "") or ""
        spec_or_404(engine, pid)
        book = _pricebook(engine, pid, _int(query, "limit", 1000, 1000))
        best_bid = Decimal(book["bids"][0]["price"]) if book["bids"] else Decimal(0)
        best_ask = Decimal(book["asks"][0]["price"]) if book["asks"] else Decimal(0)
        mid = (best_bid + best_ask) / 2
        spread = best_ask - best_bid
        return {
            "pricebook": book,
            "last": dec(engine.markets[pid].last_price),
            "mid_market": dec(mid),
            "spread_bps": dec((spread * 10_000 / mid).quantize(Decimal("0.000000000001")))
            if mid
            else "0",
            "spread_absolute": dec(spread),
        }


def best_bid_ask(engine: SimEngine, query: Query) -> dict[str, Any]:
    with engine.lock:
        pids = query.get("product_ids") or list(engine.specs)
        for pid in pids:
            spec_or_404(engine, pid)
        return {"pricebooks": [_pricebook(engine, pid, 1) for pid in pids]}


def market_trades(engine: SimEngine, pid: str, query: Query) -> dict[str, Any]:
    with engine.lock:
        spec_or_404(engine, pid)
        limit = _int(query, "limit", 100, 1000)
        trades = list(engine.markets[pid].trades)[::-1][:limit]
        bids, asks = engine.published_top(pid, 1)
        return {
            "trades": [
                {
                    "trade_id": t.trade_id,
                    "product_id": pid,
                    "price": dec(t.price),
                    "size": dec(t.size),
                    "time": rfc3339_us(t.time_ns),
                    "side": t.side,
                    "bid": "",
                    "ask": "",
                    "exchange": "coinbase",
                }
                for t in trades
            ],
            "best_bid": dec(bids[0][0]) if bids else "",
            "best_ask": dec(asks[0][0]) if asks else "",
        }


def candles(engine: SimEngine, pid: str, query: Query) -> dict[str, Any]:
    with engine.lock:
        spec_or_404(engine, pid)
        granularity = _one(query, "granularity", "") or ""
        if granularity not in GRANULARITY_S:
            raise bad_argument(
                f"granularity must be one of {', '.join(GRANULARITY_S)}, was {granularity!r}"
            )
        try:
            start, end = int(_one(query, "start", "") or ""), int(_one(query, "end", "") or "")
        except ValueError as exc:
            raise bad_argument("start and end are required UNIX seconds") from exc
        step = GRANULARITY_S[granularity]
        limit = _int(query, "limit", PAGE_CANDLES, PAGE_CANDLES)
        first = start // step * step
        if (end - first) // step > limit:
            raise bad_argument(f"start and end must be within {limit} candles")
        buckets: dict[int, list[Decimal]] = {}
        for minute, (o, h, lo, c, v) in engine.markets[pid].minute_candles(first, end):
            key = minute // step * step
            agg = buckets.get(key)
            if agg is None:
                buckets[key] = [o, h, lo, c, v]
            else:
                agg[1], agg[2], agg[3], agg[4] = max(agg[1], h), min(agg[2], lo), c, agg[4] + v
        rows = [
            {
                "start": str(k),
                "low": dec(b[2]),
                "high": dec(b[1]),
                "open": dec(b[0]),
                "close": dec(b[3]),
                "volume": dec(b[4]),
            }
            for k, b in sorted(buckets.items(), reverse=True)
        ]
        return {"candles": rows}


def accounts(engine: SimEngine, query: Query) -> dict[str, Any]:
    with engine.lock:
        page, cursor = _page(engine.wallet.accounts_json(), query, 49, 250)
        return {"accounts": page, "has_next": bool(cursor), "cursor": cursor, "size": len(page)}


def account(engine: SimEngine, account_uuid: str) -> dict[str, Any]:
    with engine.lock:
        for item in engine.wallet.accounts_json():
            if item["uuid"] == account_uuid:
                return {"account": item}
        raise not_found("account not found")


def get_order(engine: SimEngine, order_id: str) -> dict[str, Any]:
    with engine.lock:
        order = engine.orders.get(order_id)
        if order is None or not engine.visible(order):
            raise not_found("order with this orderId was not found")
        return {"order": order_rest_json(order)}


def list_orders(engine: SimEngine, query: Query) -> dict[str, Any]:
    with engine.lock:
        ids, pids = set(query.get("order_ids", [])), set(query.get("product_ids", []))
        states = set(query.get("order_status", []))
        side = _one(query, "order_side")
        found = [
            o
            for o in reversed(engine.orders.values())  # insertion order: newest first
            if engine.visible(o)
            and (not ids or o.order_id in ids)
            and (not pids or o.product_id in pids)
            and (not states or o.status in states)
            and (side is None or o.side == side)
        ]
        page, cursor = _page(found, query, 100, 1000)
        return {
            "orders": [order_rest_json(o) for o in page],
            "sequence": "0",
            "has_next": bool(cursor),
            "cursor": cursor,
            "proof_token_required": False,
        }


def list_fills(engine: SimEngine, query: Query) -> dict[str, Any]:
    with engine.lock:
        ids, pids = set(query.get("order_ids", [])), set(query.get("product_ids", []))
        trade_ids = set(query.get("trade_ids", []))
        since = _one(query, "start_sequence_timestamp")
        try:
            since_ns = None if since is None else parse_rfc3339_ns(since)
        except ValueError as exc:
            raise bad_argument(f"start_sequence_timestamp must be RFC 3339, was {since!r}") from exc
        found = [
            f
            for f in engine.fills.newest_first(order_ids=ids, since_ns=since_ns)
            if engine.visible(engine.orders[f.order_id])
            and (not ids or f.order_id in ids)
            and (not pids or f.product_id in pids)
            and (not trade_ids or f.trade_id in trade_ids)
            and (since_ns is None or f.time_ns >= since_ns)
        ]
        page, cursor = _page(found, query, 100, 1000)
        return {"fills": [fill_json(f) for f in page], "cursor": cursor}


def balance_summary(engine: SimEngine) -> dict[str, Any]:
    with engine.lock:
        return summary_rest_json(engine.balance_summary())


def margin_window(engine: SimEngine) -> dict[str, Any]:
    """``GET /cfm/intraday/current_margin_window``: the window in effect and when it ends."""
    now = engine.now_ns()
    kind = "INTRADAY" if engine.intraday() else "OVERNIGHT"
    return {
        "margin_window": {
            "margin_window_type": f"FCM_MARGIN_WINDOW_TYPE_{kind}",
            "end_time": rfc3339_s(window_ends_ns(now)),
        },
        "is_intraday_margin_killswitch_enabled": False,
        "is_intraday_margin_enrollment_killswitch_enabled": False,
    }


def positions(engine: SimEngine) -> dict[str, Any]:
    with engine.lock:
        marks = engine.marks()
        return {
            "positions": [
                engine.futures.position_json(engine.specs[pid], marks[pid])
                for pid, pos in engine.futures.positions.items()
                if pos.contracts != 0
            ]
        }


def position(engine: SimEngine, pid: str) -> dict[str, Any]:
    with engine.lock:
        spec_or_404(engine, pid)
        return {"position": engine.futures.position_json(engine.specs[pid], engine.marks()[pid])}


def server_time(engine: SimEngine) -> dict[str, Any]:
    now = engine.now_ns()
    return {
        "iso": rfc3339_us(now),
        "epochSeconds": str(now // 10**9),
        "epochMillis": str(now // 10**6),
    }
