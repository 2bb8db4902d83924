"""Per-channel decoders: the ``events`` of one envelope to the typed frame of its channel."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from perpsbot.errors import FrameDecodeError
from perpsbot.venue._fields import (
    UNSET_TIME_PREFIX,
    FieldError,
    dec,
    fail,
    flag,
    get,
    integer,
    list_field,
    obj,
    opt_dec,
    opt_text,
    snapshot_flag,
    text,
    time_ns,
)
from perpsbot.venue.frames import (
    Frame,
    HeartbeatFrame,
    MarketTrade,
    MarketTradesEvent,
    MarketTradesFrame,
    SubscriptionsFrame,
    TickerFrame,
    TickerUpdate,
    UserEvent,
    UserFrame,
    UserOrderUpdate,
)

# --- channels -------------------------------------------------------------------------------


_EVENT_KINDS = ("snapshot", "update")


def _ticker_update_checked(item: dict[str, Any]) -> TickerUpdate:
    return TickerUpdate(
        product_id=text(item, "product_id"),
        price=dec(item, "price"),
        best_bid=opt_dec(item, "best_bid"),
        best_ask=opt_dec(item, "best_ask"),
        best_bid_quantity=opt_dec(item, "best_bid_quantity"),
        best_ask_quantity=opt_dec(item, "best_ask_quantity"),
    )


def _ticker_update(item: dict[str, Any]) -> TickerUpdate:
    # Hot path for the usual all-strings ticker; anything unusual takes the checked path,
    # which also produces the precise error message.
    get = item.get
    product_id = get("product_id")
    price = get("price")
    bid = get("best_bid")
    ask = get("best_ask")
    bid_qty = get("best_bid_quantity")
    ask_qty = get("best_ask_quantity")
    if (
        type(product_id) is str
        and type(price) is str
        and type(bid) is str
        and type(ask) is str
        and type(bid_qty) is str
        and type(ask_qty) is str
        and bid
        and ask
        and bid_qty
        and ask_qty
    ):
        try:
            values = (Decimal(price), Decimal(bid), Decimal(ask), Decimal(bid_qty),
                      Decimal(ask_qty))  # fmt: skip
        except InvalidOperation:
            return _ticker_update_checked(item)
        p, b, a, bq, aq = values
        if p.is_finite() and b.is_finite() and a.is_finite() and bq.is_finite() and aq.is_finite():
            return TickerUpdate(
                product_id=product_id, price=p, best_bid=b, best_ask=a, best_bid_quantity=bq,
                best_ask_quantity=aq,
            )  # fmt: skip
    return _ticker_update_checked(item)


def _make_ticker(channel: str) -> ChannelDecoder:
    def decode(seq: int, ts_ns: int, events: list[Any], path: str) -> TickerFrame:
        tickers = []
        is_snapshot = False
        for i, event in enumerate(events):
            kind = event.get("type") if type(event) is dict else None
            items = event.get("tickers") if kind in _EVENT_KINDS else None
            if type(items) is not list:  # the checked path names what is wrong
                try:
                    items = list_field(obj(event, ""), "tickers")
                    snapshot_flag(event)
                except FieldError as err:
                    raise fail(f"{path}.events[{i}]", err) from None
            is_snapshot = is_snapshot or kind == "snapshot"
            for j, item in enumerate(items):
                try:
                    if type(item) is not dict:
                        raise FieldError("", "an object", item)
                    tickers.append(_ticker_update(item))
                except FieldError as err:
                    raise fail(f"{path}.events[{i}].tickers[{j}]", err) from None
        return TickerFrame(
            sequence_num=seq, ts_event_ns=ts_ns, channel=channel, is_snapshot=is_snapshot,
            tickers=tuple(tickers),
        )  # fmt: skip

    return decode


def _trade(item: dict[str, Any]) -> MarketTrade:
    side = text(item, "side")
    if side not in ("BUY", "SELL"):
        raise FieldError("side", "'BUY' or 'SELL'", side)
    return MarketTrade(
        trade_id=text(item, "trade_id"),
        product_id=text(item, "product_id"),
        price=dec(item, "price"),
        size=dec(item, "size"),
        side=side,
        ts_trade_ns=time_ns(get(item, "time"), "time"),
    )


def _market_trades(seq: int, ts_ns: int, events: list[Any], path: str) -> MarketTradesFrame:
    out = []
    for i, event in enumerate(events):
        try:
            body = obj(event, "")
            is_snapshot = snapshot_flag(body)
            items = list_field(body, "trades")
        except FieldError as err:
            raise fail(f"{path}.events[{i}]", err) from None
        trades = []
        for j, item in enumerate(items):
            try:
                trades.append(_trade(obj(item, "")))
            except FieldError as err:
                raise fail(f"{path}.events[{i}].trades[{j}]", err) from None
        out.append(MarketTradesEvent(is_snapshot=is_snapshot, trades=tuple(trades)))
    return MarketTradesFrame(sequence_num=seq, ts_event_ns=ts_ns, events=tuple(out))


def _user_order(item: dict[str, Any]) -> UserOrderUpdate:
    created = item.get("creation_time")
    created_ns = None
    if created not in (None, "") and not str(created).startswith(UNSET_TIME_PREFIX):
        created_ns = time_ns(created, "creation_time")
    fees = opt_dec(item, "total_fees")
    return UserOrderUpdate(
        order_id=text(item, "order_id"),
        client_order_id=opt_text(item, "client_order_id"),
        product_id=text(item, "product_id"),
        side=text(item, "order_side").upper(),
        order_type=opt_text(item, "order_type").upper(),
        status=text(item, "status"),
        cumulative_quantity=opt_dec(item, "cumulative_quantity") or Decimal(0),
        leaves_quantity=opt_dec(item, "leaves_quantity") or Decimal(0),
        avg_price=opt_dec(item, "avg_price"),
        limit_price=opt_dec(item, "limit_price"),
        total_fees=fees if fees is not None else Decimal(0),
        filled_value=opt_dec(item, "filled_value"),
        number_of_fills=integer(item.get("number_of_fills", 0), "number_of_fills"),
        post_only=flag(item, "post_only"),
        reject_reason=opt_text(item, "reject_reason"),
        cancel_reason=opt_text(item, "cancel_reason"),
        ts_created_ns=created_ns,
    )


def _user(seq: int, ts_ns: int, events: list[Any], path: str) -> UserFrame:
    out = []
    for i, event in enumerate(events):
        try:
            body = obj(event, "")
            is_snapshot = snapshot_flag(body)
            items = body.get("orders") or []
            if type(items) is not list:
                raise FieldError("orders", "a list", items)
        except FieldError as err:
            raise fail(f"{path}.events[{i}]", err) from None
        orders = []
        for j, item in enumerate(items):
            try:
                orders.append(_user_order(obj(item, "")))
            except FieldError as err:
                raise fail(f"{path}.events[{i}].orders[{j}]", err) from None
        out.append(UserEvent(is_snapshot=is_snapshot, orders=tuple(orders)))
    return UserFrame(sequence_num=seq, ts_event_ns=ts_ns, events=tuple(out))


def _heartbeats(seq: int, ts_ns: int, events: list[Any], path: str) -> HeartbeatFrame:
    if not events:
        raise FrameDecodeError(f"{path}.events must hold at least one event, found []")
    try:
        body = obj(events[-1], "")
        counter = integer(get(body, "heartbeat_counter"), "heartbeat_counter")
    except FieldError as err:
        raise fail(f"{path}.events[{len(events) - 1}]", err) from None
    return HeartbeatFrame(sequence_num=seq, ts_event_ns=ts_ns, counter=counter)


def _subscriptions(seq: int, ts_ns: int, events: list[Any], path: str) -> SubscriptionsFrame:
    active: dict[str, tuple[str, ...]] = {}
    for i, event in enumerate(events):
        try:
            subs = obj(get(obj(event, ""), "subscriptions"), "subscriptions")
            for channel, products in subs.items():
                if type(products) is not list or not all(type(p) is str for p in products):
                    raise FieldError(f"subscriptions.{channel}", "a list of strings", products)
                active[channel] = tuple(products)
        except FieldError as err:
            raise fail(f"{path}.events[{i}]", err) from None
    return SubscriptionsFrame(sequence_num=seq, ts_event_ns=ts_ns, subscriptions=active)


# (sequence_num, ts_event_ns, events, channel) -> frame; the channel roots error paths.
ChannelDecoder = Callable[[int, int, list[Any], str], Frame]

DECODERS: dict[str, ChannelDecoder] = {
    "ticker": _make_ticker("ticker"),
    "ticker_batch": _make_ticker("ticker_batch"),
    "market_trades": _market_trades,
    "user": _user,
    "heartbeats": _heartbeats,
    "subscriptions": _subscriptions,
}
