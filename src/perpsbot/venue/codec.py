"""Pure functions from Advanced Trade websocket JSON to the typed records in :mod:`.frames`.

:func:`decode_frame` takes the raw frame (bytes or str) or an already-parsed dict. Every
malformed input raises :class:`~perpsbot.errors.FrameDecodeError` naming the field path, what
was expected and what was found; no other exception escapes. Unknown channels decode to
:class:`~.frames.UnknownFrame` (they still consume a sequence number).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

from perpsbot.errors import FrameDecodeError
from perpsbot.venue import _build
from perpsbot.venue.frames import (
    ErrorFrame,
    Frame,
    HeartbeatFrame,
    L2Event,
    Level2Frame,
    MarketTrade,
    MarketTradesEvent,
    MarketTradesFrame,
    SubscriptionsFrame,
    TickerFrame,
    TickerUpdate,
    UnknownFrame,
    UserEvent,
    UserFrame,
    UserOrderUpdate,
)
from perpsbot.venue.timestamps import parse_rfc3339_ns

__all__ = ["decode_frame", "encode_subscribe"]

_EVENT_TYPES = {"snapshot": True, "update": False}
_UNSET_TIME_PREFIX = "0001-01-01"


class _FieldError(Exception):
    """Raised by the helpers below; turned into FrameDecodeError with the full path."""

    def __init__(self, field: str, expected: str, found: object) -> None:
        super().__init__(field)
        self.field = field
        self.expected = expected
        self.found = found


def _shown(found: object) -> str:
    text = repr(found)
    return text if len(text) <= 80 else text[:77] + "..."


def _fail(path: str, err: _FieldError) -> FrameDecodeError:
    where = f"{path}.{err.field}" if err.field else path
    return FrameDecodeError(f"{where} must be {err.expected}, found {_shown(err.found)}")


def _get(obj: dict[str, Any], key: str) -> Any:
    try:
        return obj[key]
    except KeyError:
        raise _FieldError(key, "present", "nothing") from None


def _str(obj: dict[str, Any], key: str) -> str:
    value = _get(obj, key)
    if type(value) is not str:
        raise _FieldError(key, "a string", value)
    return value


def _opt_str(obj: dict[str, Any], key: str) -> str:
    value = obj.get(key, "")
    if value is None:
        return ""
    if type(value) is not str:
        raise _FieldError(key, "a string", value)
    return value


def _to_dec(value: object, key: str) -> Decimal:
    if type(value) is str or type(value) is int:
        try:
            number = Decimal(value)
        except (InvalidOperation, ValueError):
            raise _FieldError(key, "a decimal string", value) from None
        if number.is_finite():
            return number
    raise _FieldError(key, "a finite decimal string", value)


def _dec(obj: dict[str, Any], key: str) -> Decimal:
    return _to_dec(_get(obj, key), key)


def _opt_dec(obj: dict[str, Any], key: str) -> Decimal | None:
    value = obj.get(key)
    if value is None or value == "":
        return None
    return _to_dec(value, key)


def _int(value: object, key: str) -> int:
    if type(value) is int:
        return value
    if type(value) is str and value.isdigit() and value.isascii():
        return int(value)
    raise _FieldError(key, "an integer or a string of digits", value)


def _time_ns(value: object, key: str) -> int:
    if type(value) is not str:
        raise _FieldError(key, "an RFC 3339 timestamp string", value)
    try:
        return parse_rfc3339_ns(value)
    except (ValueError, IndexError):
        raise _FieldError(key, "an RFC 3339 timestamp", value) from None


def _dict(value: object, key: str) -> dict[str, Any]:
    if type(value) is not dict:
        raise _FieldError(key, "an object", value)
    return value


def _list(obj: dict[str, Any], key: str) -> list[Any]:
    value = _get(obj, key)
    if type(value) is not list:
        raise _FieldError(key, "a list", value)
    return value


def _is_snapshot(event: dict[str, Any]) -> bool:
    kind = _get(event, "type")
    try:
        return _EVENT_TYPES[kind]
    except (KeyError, TypeError):
        raise _FieldError("type", "'snapshot' or 'update'", kind) from None


# --- channels -------------------------------------------------------------------------------


def _l2_level_checked(
    level: object, bids: list[tuple[Decimal, Decimal]], asks: list[tuple[Decimal, Decimal]]
) -> None:
    entry = _dict(level, "")
    price = _dec(entry, "price_level")
    size = _dec(entry, "new_quantity")
    if size < 0:
        raise _FieldError("new_quantity", "a size >= 0", entry["new_quantity"])
    side = entry.get("side")
    if side == "bid":
        bids.append((price, size))
    elif side == "offer":
        asks.append((price, size))
    else:
        raise _FieldError("side", "'bid' or 'offer'", side)


def _l2_event(event: dict[str, Any], path: str) -> L2Event:
    is_snapshot = _is_snapshot(event)
    product_id = _str(event, "product_id")
    updates = _list(event, "updates")
    bids: list[tuple[Decimal, Decimal]] = []
    asks: list[tuple[Decimal, Decimal]] = []
    for j, level in enumerate(updates):
        # Hot path: string price and size, known side. Anything else is re-checked slowly,
        # which either accepts it (e.g. integer sizes) or names what is wrong.
        if type(level) is dict:
            price_text = level.get("price_level")
            size_text = level.get("new_quantity")
            side = level.get("side")
            if type(price_text) is str and type(size_text) is str:
                try:
                    price = Decimal(price_text)
                    size = Decimal(size_text)
                except InvalidOperation:
                    pass
                else:
                    if price.is_finite() and size.is_finite() and size >= 0:
                        if side == "bid":
                            bids.append((price, size))
                            continue
                        if side == "offer":
                            asks.append((price, size))
                            continue
        try:
            _l2_level_checked(level, bids, asks)
        except _FieldError as err:
            raise _fail(f"{path}.updates[{j}]", err) from None
    return _build.l2_event(product_id, is_snapshot, tuple(bids), tuple(asks))


def _level2(seq: int, ts_ns: int, events: list[Any], path: str) -> Level2Frame:
    out = []
    for i, event in enumerate(events):
        where = f"{path}[{i}]"
        try:
            out.append(_l2_event(_dict(event, ""), where))
        except _FieldError as err:
            raise _fail(where, err) from None
    return _build.level2_frame(seq, ts_ns, tuple(out))


def _ticker_update_checked(item: dict[str, Any]) -> TickerUpdate:
    return TickerUpdate(
        product_id=_str(item, "product_id"),
        price=_dec(item, "price"),
        best_bid=_opt_dec(item, "best_bid"),
        best_ask=_opt_dec(item, "best_ask"),
        best_bid_quantity=_opt_dec(item, "best_bid_quantity"),
        best_ask_quantity=_opt_dec(item, "best_ask_quantity"),
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
        if all(v.is_finite() for v in values):
            return _build.ticker_update(product_id, *values)
    return _ticker_update_checked(item)


def _make_ticker(channel: str) -> _ChannelDecoder:
    def decode(seq: int, ts_ns: int, events: list[Any], path: str) -> TickerFrame:
        tickers = []
        is_snapshot = False
        for i, event in enumerate(events):
            try:
                body = _dict(event, "")
                is_snapshot = _is_snapshot(body) or is_snapshot
                items = _list(body, "tickers")
            except _FieldError as err:
                raise _fail(f"{path}[{i}]", err) from None
            for item in items:
                try:
                    if type(item) is not dict:
                        raise _FieldError("", "an object", item)
                    tickers.append(_ticker_update(item))
                except _FieldError as err:
                    raise _fail(f"{path}[{i}].tickers[{items.index(item)}]", err) from None
        return _build.ticker_frame(seq, ts_ns, channel, is_snapshot, tuple(tickers))

    return decode


def _trade(item: dict[str, Any]) -> MarketTrade:
    side = _str(item, "side")
    if side not in ("BUY", "SELL"):
        raise _FieldError("side", "'BUY' or 'SELL'", side)
    return MarketTrade(
        trade_id=_str(item, "trade_id"),
        product_id=_str(item, "product_id"),
        price=_dec(item, "price"),
        size=_dec(item, "size"),
        side=side,
        ts_trade_ns=_time_ns(_get(item, "time"), "time"),
    )


def _market_trades(seq: int, ts_ns: int, events: list[Any], path: str) -> MarketTradesFrame:
    out = []
    for i, event in enumerate(events):
        try:
            body = _dict(event, "")
            is_snapshot = _is_snapshot(body)
            items = _list(body, "trades")
        except _FieldError as err:
            raise _fail(f"{path}[{i}]", err) from None
        trades = []
        for j, item in enumerate(items):
            try:
                trades.append(_trade(_dict(item, "")))
            except _FieldError as err:
                raise _fail(f"{path}[{i}].trades[{j}]", err) from None
        out.append(MarketTradesEvent(is_snapshot=is_snapshot, trades=tuple(trades)))
    return MarketTradesFrame(sequence_num=seq, ts_event_ns=ts_ns, events=tuple(out))


def _bool(obj: dict[str, Any], key: str) -> bool:
    value = obj.get(key, False)
    if value in (True, "true", "TRUE", "True"):
        return True
    if value in (False, "false", "FALSE", "False", "", None):
        return False
    raise _FieldError(key, "'true' or 'false'", value)


def _user_order(item: dict[str, Any]) -> UserOrderUpdate:
    created = item.get("creation_time")
    created_ns = None
    if created not in (None, "") and not str(created).startswith(_UNSET_TIME_PREFIX):
        created_ns = _time_ns(created, "creation_time")
    fees = _opt_dec(item, "total_fees")
    return UserOrderUpdate(
        order_id=_str(item, "order_id"),
        client_order_id=_opt_str(item, "client_order_id"),
        product_id=_str(item, "product_id"),
        side=_str(item, "order_side").upper(),
        order_type=_opt_str(item, "order_type").upper(),
        status=_str(item, "status"),
        cumulative_quantity=_opt_dec(item, "cumulative_quantity") or Decimal(0),
        leaves_quantity=_opt_dec(item, "leaves_quantity") or Decimal(0),
        avg_price=_opt_dec(item, "avg_price"),
        limit_price=_opt_dec(item, "limit_price"),
        total_fees=fees if fees is not None else Decimal(0),
        filled_value=_opt_dec(item, "filled_value"),
        number_of_fills=_int(item.get("number_of_fills", 0), "number_of_fills"),
        post_only=_bool(item, "post_only"),
        reject_reason=_opt_str(item, "reject_reason"),
        cancel_reason=_opt_str(item, "cancel_reason"),
        ts_created_ns=created_ns,
    )


def _user(seq: int, ts_ns: int, events: list[Any], path: str) -> UserFrame:
    out = []
    for i, event in enumerate(events):
        try:
            body = _dict(event, "")
            is_snapshot = _is_snapshot(body)
            items = body.get("orders") or []
            if type(items) is not list:
                raise _FieldError("orders", "a list", items)
        except _FieldError as err:
            raise _fail(f"{path}[{i}]", err) from None
        orders = []
        for j, item in enumerate(items):
            try:
                orders.append(_user_order(_dict(item, "")))
            except _FieldError as err:
                raise _fail(f"{path}[{i}].orders[{j}]", err) from None
        out.append(UserEvent(is_snapshot=is_snapshot, orders=tuple(orders)))
    return UserFrame(sequence_num=seq, ts_event_ns=ts_ns, events=tuple(out))


def _heartbeats(seq: int, ts_ns: int, events: list[Any], path: str) -> HeartbeatFrame:
    if not events:
        raise FrameDecodeError(f"{path} must hold at least one event, found []")
    try:
        body = _dict(events[-1], "")
        counter = _int(_get(body, "heartbeat_counter"), "heartbeat_counter")
    except _FieldError as err:
        raise _fail(f"{path}[{len(events) - 1}]", err) from None
    return _build.heartbeat_frame(seq, ts_ns, counter)


def _subscriptions(seq: int, ts_ns: int, events: list[Any], path: str) -> SubscriptionsFrame:
    active: dict[str, tuple[str, ...]] = {}
    for i, event in enumerate(events):
        try:
            subs = _dict(_get(_dict(event, ""), "subscriptions"), "subscriptions")
            for channel, products in subs.items():
                if type(products) is not list or not all(type(p) is str for p in products):
                    raise _FieldError(f"subscriptions.{channel}", "a list of strings", products)
                active[channel] = tuple(products)
        except _FieldError as err:
            raise _fail(f"{path}[{i}]", err) from None
    return SubscriptionsFrame(sequence_num=seq, ts_event_ns=ts_ns, subscriptions=active)


_ChannelDecoder = Callable[[int, int, list[Any], str], Frame]

_DECODERS: dict[str, _ChannelDecoder] = {
    "l2_data": _level2,
    "ticker": _make_ticker("ticker"),
    "ticker_batch": _make_ticker("ticker_batch"),
    "market_trades": _market_trades,
    "user": _user,
    "heartbeats": _heartbeats,
    "subscriptions": _subscriptions,
}


def _error_frame(message: dict[str, Any]) -> ErrorFrame:
    text = message.get("message", "")
    if type(text) is not str:
        raise FrameDecodeError(f"error.message must be a string, found {_shown(text)}")
    return ErrorFrame(message=text)


def decode_frame(raw: bytes | bytearray | memoryview | str | dict[str, Any]) -> Frame:
    """Decode one websocket frame into its typed record.

    Raises:
        FrameDecodeError: the frame is not JSON, not an object, or a field is missing or of
            the wrong shape; the message names the field path, the expected and the found.
    """
    if type(raw) is dict:
        message: Any = raw
    else:
        try:
            message = orjson.loads(raw)  # type: ignore[arg-type]
        except (orjson.JSONDecodeError, TypeError) as exc:
            raise FrameDecodeError(f"frame must be JSON, found {_shown(raw)} ({exc})") from None
        if type(message) is not dict:
            raise FrameDecodeError(f"frame must be a JSON object, found {_shown(message)}")
    channel = message.get("channel")
    if channel is None:
        if message.get("type") == "error":
            return _error_frame(message)
        raise FrameDecodeError(f"frame.channel must be present, found keys {sorted(message)!r}")
    if type(channel) is not str:
        raise FrameDecodeError(f"frame.channel must be a string, found {_shown(channel)}")
    try:
        seq = message["sequence_num"]
        if type(seq) is not int or seq < 0:
            raise _FieldError("sequence_num", "an integer >= 0", seq)
        ts_ns = _time_ns(_get(message, "timestamp"), "timestamp")
        decoder = _DECODERS.get(channel)
        if decoder is None:
            return UnknownFrame(sequence_num=seq, ts_event_ns=ts_ns, channel=channel)
        events = _list(message, "events")
    except KeyError:
        raise FrameDecodeError(f"{channel}.sequence_num must be present, found nothing") from None
    except _FieldError as err:
        raise _fail(channel, err) from None
    return decoder(seq, ts_ns, events, f"{channel}.events")


def encode_subscribe(
    channel: str,
    product_ids: tuple[str, ...] = (),
    *,
    jwt: str | None = None,
    subscribe: bool = True,
) -> bytes:
    """The subscribe (or unsubscribe) message for one channel, as JSON bytes."""
    body: dict[str, Any] = {"type": "subscribe" if subscribe else "unsubscribe", "channel": channel}
    if product_ids:
        body["product_ids"] = list(product_ids)
    if jwt is not None:
        body["jwt"] = jwt
    return orjson.dumps(body)
