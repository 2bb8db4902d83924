"""What the exchange's saved state is made of: one line per attribute.

The state comes in parts, each a tuple of :class:`Attr` (a dotted path from its owner and
the :class:`~perpsbot.sim._codec.Codec` of its value):

- :data:`ACCOUNT`, of the engine: balances, holds, the futures account (its positions, with
  their average entry and realized PnL, are :class:`~perpsbot.sim._accounts.SimPosition`
  records, every field saved), funding, and the id counters and generator, so no id is ever
  handed out twice. Saved, with the orders and fills that changed, before the exchange
  answers the call that changed it.
- :data:`MARKET`, of each product's market, and :data:`MARKET_CLOCK`, of the engine: prices,
  book levels, prints and the market's random generator, so prices go on where they were
  instead of jumping back to the catalogue's. Saved every 10 s and at stop.

Orders (:data:`ORDER`) and fills (:data:`FILL`) are rows of their own, and so are candles.

To keep a new attribute, add its line to the part it belongs to. A file saved before the
line existed still loads: the attribute keeps the value a new exchange starts with. Change
:data:`~perpsbot.sim._state_file.FORMAT_VERSION` only when an attribute changes meaning.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from operator import attrgetter
from typing import Any, Generic, TypeVar

import attrs

from perpsbot.sim._accounts import SimPosition
from perpsbot.sim._codec import (
    DECIMAL,
    FLOAT,
    INT,
    LEVELS,
    RNG,
    Codec,
    StateFormatError,
    listing,
    mapping,
    record,
)
from perpsbot.sim._market import Trade
from perpsbot.sim._orders import SimFill, SimOrder

__all__ = [
    "ACCOUNT",
    "CANDLE",
    "FILL",
    "MARKET",
    "MARKET_CLOCK",
    "ORDER",
    "Attr",
    "restore_part",
    "save_part",
]

T = TypeVar("T")


@attrs.frozen
class Attr(Generic[T]):
    """One attribute of the saved state: ``path`` from its owner, and its codec."""

    path: str
    codec: Codec[T]

    def save(self, owner: object) -> Any:
        return self.codec.encode(attrgetter(self.path)(owner))

    def restore(self, owner: object, data: Any, where: str) -> None:
        """Set the attribute from ``data``; a dict or deque is refilled in place, so whoever
        holds it sees the restored contents."""
        value = self.codec.decode(data, f"{where}.{self.path}")
        parent, _, name = self.path.rpartition(".")
        target = attrgetter(parent)(owner) if parent else owner
        current = getattr(target, name)
        if isinstance(current, dict) and isinstance(value, dict):
            current.clear()
            current.update(value)
        elif isinstance(current, deque) and isinstance(value, Iterable):
            current.clear()
            current.extend(value)
        else:
            setattr(target, name, value)


ACCOUNT: tuple[Attr[Any], ...] = (
    Attr("wallet.balances", mapping(DECIMAL)),
    Attr("wallet.holds", mapping(DECIMAL)),
    Attr("wallet._seed", INT),  # the account uuids are made of it
    Attr("futures.cash", DECIMAL),
    Attr("futures.order_holds", DECIMAL),
    Attr("futures.positions", mapping(record(SimPosition))),
    Attr("funding.rates", mapping(DECIMAL)),
    Attr("funding.next_funding_ns", INT),
    Attr("funding.next_settlement_ns", INT),
    Attr("_trade_seq", INT),  # trade ids of fills and prints go on from here
    Attr("_ids", RNG),  # order, fill and preview ids: never drawn twice
)
"""The engine's account attributes (see the module docstring)."""

MARKET: tuple[Attr[Any], ...] = (
    Attr("fair", FLOAT),
    Attr("basis", FLOAT),
    Attr("bids", LEVELS),
    Attr("asks", LEVELS),
    Attr("last_price", DECIMAL),
    Attr("open_24h", DECIMAL),
    Attr("high_24h", DECIMAL),
    Attr("low_24h", DECIMAL),
    Attr("volume_24h", DECIMAL),
    Attr("trades", listing(record(Trade))),
    Attr("history_origin_s", INT),
    Attr("history_origin_open", DECIMAL),
)
"""One product's market (a ``ProductMarket``); its candles are rows of their own."""

MARKET_CLOCK: tuple[Attr[Any], ...] = (
    Attr("_rng", RNG),
    Attr("steps", INT),
)
"""The engine's market clock: the walk's generator and the steps taken."""

#: An order: every field but its visibility deadline (a monotonic time of the process that
#: made it; a restored order is visible at once).
ORDER: Codec[SimOrder] = record(SimOrder, skip=frozenset({"visible_after_mono"}))
FILL: Codec[SimFill] = record(SimFill)
#: A one-minute candle: open, high, low, close, volume.
CANDLE: Codec[Iterable[Any]] = listing(DECIMAL)


def save_part(owner: object, part: tuple[Attr[Any], ...]) -> dict[str, Any]:
    """The attributes of ``part`` of ``owner``, by path."""
    return {attr.path: attr.save(owner) for attr in part}


def restore_part(owner: object, part: tuple[Attr[Any], ...], data: Any, where: str) -> None:
    """Set the attributes of ``part`` of ``owner`` that ``data`` holds (the others keep their
    values: a new attribute, saved by a later version only).

    Raises:
        StateFormatError: ``data`` or one of its values is not what the part says.
    """
    if not isinstance(data, dict):
        raise StateFormatError(where, "an object of attributes", data)
    for attr in part:
        if attr.path in data:
            attr.restore(owner, data[attr.path], where)
