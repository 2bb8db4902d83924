"""Fast constructors for the hot-path frame records.

Frozen attrs classes set each slot through ``object.__setattr__`` in their ``__init__``, which
costs about twice as much as storing through the slot descriptors directly. These builders do
exactly what the attrs ``__init__`` does for these classes (they have no validators, converters
or defaults) at half the cost; the codec uses them for the frames that arrive by the thousand.
Every other caller should use the normal constructors.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from perpsbot.venue.frames import (
    HeartbeatFrame,
    TickerFrame,
    TickerUpdate,
)

_new = object.__new__


def _setters(cls: type[Any], *names: str) -> tuple[Any, ...]:
    return tuple(cls.__dict__[name].__set__ for name in names)


_TU = _setters(
    TickerUpdate,
    "product_id", "price", "best_bid", "best_ask", "best_bid_quantity", "best_ask_quantity",
)  # fmt: skip
_TF = _setters(TickerFrame, "sequence_num", "ts_event_ns", "channel", "is_snapshot", "tickers")
_HB = _setters(HeartbeatFrame, "sequence_num", "ts_event_ns", "counter")


def ticker_update(  # noqa: PLR0917 (positional on purpose: the hot path)
    product_id: str,
    price: Decimal,
    best_bid: Decimal | None,
    best_ask: Decimal | None,
    best_bid_quantity: Decimal | None,
    best_ask_quantity: Decimal | None,
) -> TickerUpdate:
    obj: TickerUpdate = _new(TickerUpdate)
    s0, s1, s2, s3, s4, s5 = _TU
    s0(obj, product_id)
    s1(obj, price)
    s2(obj, best_bid)
    s3(obj, best_ask)
    s4(obj, best_bid_quantity)
    s5(obj, best_ask_quantity)
    return obj


def ticker_frame(
    sequence_num: int,
    ts_event_ns: int,
    channel: str,
    is_snapshot: bool,
    tickers: tuple[TickerUpdate, ...],
) -> TickerFrame:
    obj: TickerFrame = _new(TickerFrame)
    s0, s1, s2, s3, s4 = _TF
    s0(obj, sequence_num)
    s1(obj, ts_event_ns)
    s2(obj, channel)
    s3(obj, is_snapshot)
    s4(obj, tickers)
    return obj


def heartbeat_frame(sequence_num: int, ts_event_ns: int, counter: int) -> HeartbeatFrame:
    obj: HeartbeatFrame = _new(HeartbeatFrame)
    s0, s1, s2 = _HB
    s0(obj, sequence_num)
    s1(obj, ts_event_ns)
    s2(obj, counter)
    return obj
