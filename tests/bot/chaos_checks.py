"""What a chaos run must leave behind, read from the exchange's own history and the journal.

The venue side comes from its REST API only: every order whose client order id is ours and
every fill of those, each in the order the exchange took them, and its positions now. The
bot side is its journal file, read-only. Shorts are disabled in a chaos run, so each BUY of
ours is an entry (it may only be placed while the venue holds nothing of ours in that
symbol) and each SELL an exit (it may never ask for more than the venue holds of ours: on
spot the rest is the owner's coins, on a future the rest would be a short nobody chose).

The position the venue held when an order was placed is replayed from the venue's fills:
the fills of orders placed before it, traded no later than its creation. The strategy only
sends immediate-or-cancel market orders, which trade when they are placed, so this is the
exchange's position at that moment.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path

import attrs

from perpsbot.ids import is_our_client_order_id
from perpsbot.journal import JournalReader
from perpsbot.venue import RestClient
from perpsbot.venue.records import FillRecord, OrderRecord

#: The invariants, in the order they are reported; each must end with 0 violations.
INVARIANTS = (
    "duplicate orders",
    "orders the journal lacks",
    "entries while the venue held a position",
    "exits past the position",
    "lost fills",
    "journal positions differ from the venue",
)


@attrs.frozen(kw_only=True)
class Violation:
    invariant: str
    detail: str


@attrs.frozen(kw_only=True)
class VenueHistory:
    """Our orders (oldest first) and their fills (in the order they traded), at the venue."""

    orders: tuple[OrderRecord, ...]
    fills: tuple[FillRecord, ...]
    futures: dict[str, Decimal]
    """Signed contracts of each futures position the venue holds now."""

    @classmethod
    def read(cls, rest: RestClient) -> VenueHistory:
        orders = [o for o in rest.list_orders() if is_our_client_order_id(o.client_order_id)]
        orders.reverse()  # the venue lists newest first
        ours = {o.order_id for o in orders}
        fills = [f for f in rest.fills() if f.order_id in ours]
        fills.reverse()
        futures = {p.product_id: p.signed_contracts for p in rest.cfm_positions()}
        return cls(orders=tuple(orders), fills=tuple(fills), futures=futures)

    def positions(self) -> dict[str, Decimal]:
        """Each symbol's position of ours now: the sum of our fills (signed)."""
        held: dict[str, Decimal] = defaultdict(Decimal)
        for fill in self.fills:
            held[fill.product_id] += _signed(fill)
        return dict(held)


@attrs.frozen(kw_only=True)
class JournalFacts:
    """What the journal holds that the checks compare: its orders' client order ids, its
    fill ids and each symbol's latest position."""

    client_order_ids: frozenset[str]
    fill_ids: frozenset[str]
    positions: dict[str, Decimal]

    @classmethod
    def read(cls, journal: Path) -> JournalFacts:
        with JournalReader(journal) as reader:
            return cls(
                client_order_ids=frozenset(t.client_order_id for t in reader.trades()),
                fill_ids=reader.fill_ids(),
                positions={s: p.position.quantity for s, p in reader.latest_positions().items()},
            )


@attrs.frozen(kw_only=True)
class Figures:
    orders: int
    fills: int
    entries: int
    exits: int
    by_symbol: dict[str, int]
    violations: tuple[Violation, ...]

    def count(self, invariant: str) -> int:
        return sum(1 for v in self.violations if v.invariant == invariant)

    def lines(self) -> list[str]:
        symbols = ", ".join(f"{s} {n}" for s, n in sorted(self.by_symbol.items()))
        out = [
            f"venue orders of ours: {self.orders} ({symbols}): {self.entries} entries, "
            f"{self.exits} exits; fills: {self.fills}"
        ]
        out += [f"  {name}: {self.count(name)}" for name in INVARIANTS]
        out += [f"  ! {v.invariant}: {v.detail}" for v in self.violations]
        return out


def check(history: VenueHistory, journal: JournalFacts) -> Figures:
    """Every invariant of :data:`INVARIANTS` over the venue's ``history`` and the ``journal``.

    Read both once the bot settled every intent and reconciled since (the last check compares
    the journal's latest positions with the venue's).
    """
    violations = [
        *_duplicates(history.orders),
        *_unjournaled(history.orders, journal.client_order_ids),
        *_against_positions(history),
        *_lost_fills(history, journal.fill_ids),
        *_differences(history, journal.positions),
    ]
    return Figures(
        orders=len(history.orders),
        fills=len(history.fills),
        entries=sum(1 for o in history.orders if o.side == "BUY"),
        exits=sum(1 for o in history.orders if o.side == "SELL"),
        by_symbol=dict(Counter(o.product_id for o in history.orders)),
        violations=tuple(violations),
    )


def _signed(fill: FillRecord) -> Decimal:
    return fill.size if fill.side == "BUY" else -fill.size


def _duplicates(orders: Iterable[OrderRecord]) -> list[Violation]:
    counts = Counter(o.client_order_id for o in orders)
    return [
        Violation(invariant="duplicate orders", detail=f"{coid} placed {n} times")
        for coid, n in counts.items()
        if n > 1
    ]


def _unjournaled(orders: Iterable[OrderRecord], journaled: frozenset[str]) -> list[Violation]:
    return [
        Violation(
            invariant="orders the journal lacks",
            detail=f"{o.client_order_id} ({o.side} {o.product_id}) is at the venue only",
        )
        for o in orders
        if o.client_order_id not in journaled
    ]


def _against_positions(history: VenueHistory) -> list[Violation]:
    """Each order against the venue's position of ours in its symbol when it was placed."""
    placed = {o.order_id: i for i, o in enumerate(history.orders)}
    found = []
    for index, order in enumerate(history.orders):
        created = order.ts_created_ns or 0
        held = sum(
            (
                _signed(f)
                for f in history.fills
                if f.product_id == order.product_id
                and placed[f.order_id] < index
                and (f.ts_trade_ns or 0) <= created
            ),
            Decimal(0),
        )
        size = order.base_size if order.base_size is not None else order.filled_size
        what = f"{order.client_order_id} {order.side} {size} {order.product_id}"
        if order.side == "BUY" and held != 0:
            found.append(
                Violation(
                    invariant="entries while the venue held a position",
                    detail=f"{what} placed while the venue held {held}",
                )
            )
        elif order.side == "SELL" and size > held:
            found.append(
                Violation(
                    invariant="exits past the position",
                    detail=f"{what} placed while the venue held {held} of ours",
                )
            )
    return found


def _lost_fills(history: VenueHistory, journaled: frozenset[str]) -> list[Violation]:
    coid = {o.order_id: o.client_order_id for o in history.orders}
    return [
        Violation(
            invariant="lost fills",
            detail=f"fill {f.entry_id or f.trade_id} of {coid[f.order_id]} "
            f"({f.side} {f.size} {f.product_id}) is not in the journal",
        )
        for f in history.fills
        if (f.entry_id or f.trade_id) not in journaled
    ]


def _differences(history: VenueHistory, journaled: dict[str, Decimal]) -> list[Violation]:
    venue = history.positions()
    found = []
    for symbol in sorted(set(venue) | set(journaled) | set(history.futures)):
        ours = venue.get(symbol, Decimal(0))
        if symbol in history.futures or symbol.endswith("-CDE"):
            account = history.futures.get(symbol, Decimal(0))
            if account != ours:  # the venue disagrees with itself: the check is broken
                raise AssertionError(f"{symbol}: fills sum to {ours}, the venue holds {account}")
        kept = journaled.get(symbol, Decimal(0))
        if kept != ours:
            found.append(
                Violation(
                    invariant="journal positions differ from the venue",
                    detail=f"{symbol}: journal {kept}, venue {ours}",
                )
            )
    return found
