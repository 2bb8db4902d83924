"""The order state machine: which transitions are possible, and the venue's statuses."""

from __future__ import annotations

from decimal import Decimal

import attrs
import pytest

from perpsbot.actors.execution._ledger import OrderLedger
from perpsbot.actors.execution._order_states import TrackedOrder, allowed, venue_state
from perpsbot.clock import FakeClock
from perpsbot.ids import SequentialIds
from perpsbot.messages import (
    BookedFill,
    IntentPurpose,
    OrderFilled,
    OrderIntent,
    OrderStatus,
    OrderType,
    OrderUpdated,
    Side,
    Stamper,
    TimeInForce,
    TransitionSource,
)
from perpsbot.venue.gateway import NewOrder, VenueFill

S = OrderStatus
REST = TransitionSource.REST
TERMINAL = [S.FILLED, S.CANCELLED, S.REJECTED, S.EXPIRED]


@pytest.mark.parametrize(
    ("previous", "status", "possible"),
    [
        (None, S.PENDING_SUBMIT, True),
        (None, S.ACKNOWLEDGED, False),  # nothing reaches the venue unjournaled
        (S.PENDING_SUBMIT, S.SUBMITTED, True),
        (S.PENDING_SUBMIT, S.ACKNOWLEDGED, False),  # sent means SUBMITTED first
        (S.PENDING_SUBMIT, S.EXPIRED, True),
        (S.SUBMITTED, S.ACKNOWLEDGED, True),
        (S.SUBMITTED, S.UNKNOWN, True),
        (S.SUBMITTED, S.FILLED, True),
        (S.UNKNOWN, S.SUBMITTED, True),  # settled by sending it again, same client id
        (S.UNKNOWN, S.FILLED, True),
        (S.ACKNOWLEDGED, S.PARTIALLY_FILLED, True),
        (S.ACKNOWLEDGED, S.SUBMITTED, False),
        (S.ACKNOWLEDGED, S.UNKNOWN, False),
        (S.PARTIALLY_FILLED, S.PARTIALLY_FILLED, True),  # more fills
        (S.PARTIALLY_FILLED, S.ACKNOWLEDGED, False),  # filled size never shrinks
        (S.PARTIALLY_FILLED, S.CANCELLED, True),
        (S.CANCEL_PENDING, S.CANCELLED, True),
        (S.CANCEL_PENDING, S.FILLED, True),  # the fill won the race
        (S.CANCEL_PENDING, S.ACKNOWLEDGED, True),  # the cancel failed
        *[(t, s, False) for t in TERMINAL for s in S],
    ],
)
def test_transitions_other_than_reconciliation(
    previous: OrderStatus | None, status: OrderStatus, possible: bool
) -> None:
    for source in (REST, TransitionSource.USER_CHANNEL, TransitionSource.POLL):
        assert allowed(previous, status, source) is possible


@pytest.mark.parametrize("previous", [None, *S])
def test_reconciliation_may_move_any_order_to_the_venues_truth(
    previous: OrderStatus | None,
) -> None:
    assert all(allowed(previous, s, TransitionSource.RECONCILIATION) for s in S)


@pytest.mark.parametrize(
    ("venue", "filled", "status"),
    [
        ("PENDING", "0", S.ACKNOWLEDGED),
        ("QUEUED", "0", S.ACKNOWLEDGED),
        ("OPEN", "0", S.ACKNOWLEDGED),
        ("open", "0.5", S.PARTIALLY_FILLED),
        ("CANCEL_QUEUED", "0", S.CANCEL_PENDING),
        ("FILLED", "1", S.FILLED),
        ("CANCELLED", "0.5", S.CANCELLED),
        ("EXPIRED", "0", S.EXPIRED),
        ("FAILED", "0", S.REJECTED),
        ("UNKNOWN_ORDER_STATUS", "0", None),
    ],
)
def test_what_the_venues_statuses_mean(venue: str, filled: str, status: OrderStatus | None) -> None:
    assert venue_state(venue, Decimal(filled)) is status


def _ledger() -> tuple[OrderLedger, list[object]]:
    published: list[object] = []
    clock = FakeClock()
    ledger = OrderLedger(
        publish=published.append, stamper=Stamper(clock, SequentialIds()), now_ns=clock.time_ns
    )
    ledger.hold(
        TrackedOrder(
            intent_id="i", client_order_id="c", correlation_id="m", symbol="BTC-USD",
            side=Side.BUY, purpose=IntentPurpose.ENTRY, order_type=OrderType.MARKET,
            size=Decimal(1), limit_price=None, contract_size=Decimal(1), status=S.ACKNOWLEDGED,
            venue_order_id="v",
        )
    )  # fmt: skip
    return ledger, published


def test_an_impossible_transition_is_counted_and_changes_nothing() -> None:
    ledger, published = _ledger()
    assert ledger.move("c", S.CANCELLED, REST)
    assert not ledger.move("c", S.ACKNOWLEDGED, TransitionSource.USER_CHANNEL)
    assert ledger.impossible == 1
    order = ledger.get("c")
    assert order is not None
    assert order.status is S.CANCELLED
    assert [type(m) for m in published] == [OrderUpdated]


def _booked(fill_id: str, size: str) -> BookedFill:
    return BookedFill(fill_id=fill_id, intent_id="i", client_order_id="c", size=Decimal(size))


def test_a_filled_order_is_published_terminal_only_once_its_fills_are_booked() -> None:
    # Published FILLED while its fills are not in the position, the order would be forgotten
    # by everyone and its exit sent again (trading-core review, finding 1).
    ledger, published = _ledger()
    assert ledger.move("c", S.FILLED, TransitionSource.USER_CHANNEL, filled_size=Decimal(1))
    assert published == []
    (order,) = ledger.unfinished()
    assert (order.status, order.settled, order.unsettled_size) == (S.FILLED, False, 1)
    ledger.add_fills("c", [_fill("a", "0.5"), _fill("b", "0.5")])
    ledger.book(_booked("a", "0.5"))
    assert [type(m) for m in published] == [OrderFilled, OrderFilled]
    ledger.book(_booked("b", "0.5"))
    update = published[-1]
    assert isinstance(update, OrderUpdated)
    assert (update.previous, update.status, update.source) == (
        S.ACKNOWLEDGED, S.FILLED, TransitionSource.USER_CHANNEL,
    )  # fmt: skip
    assert update.settled
    assert ledger.unfinished() == []


def test_a_transition_is_published_with_where_it_came_from() -> None:
    ledger, published = _ledger()
    ledger.move("c", S.PARTIALLY_FILLED, TransitionSource.POLL, filled_size=Decimal("0.4"))
    ledger.move("c", S.PARTIALLY_FILLED, TransitionSource.POLL, filled_size=Decimal("0.4"))
    (update,) = published
    assert isinstance(update, OrderUpdated)
    assert (update.previous, update.status, update.source) == (
        S.ACKNOWLEDGED, S.PARTIALLY_FILLED, TransitionSource.POLL,
    )  # fmt: skip
    assert update.filled_size == Decimal("0.4")


def _fill(fill_id: str, size: str) -> VenueFill:
    return VenueFill(
        fill_id=fill_id, venue_order_id="v", side=Side.BUY, price=Decimal(100),
        size=Decimal(size), fee=Decimal("0.1"), liquidity="TAKER", ts_ns=1,
    )  # fmt: skip


def test_each_fill_is_published_once_by_its_id() -> None:
    ledger, published = _ledger()
    assert ledger.add_fills("c", [_fill("a", "0.25")]) == 1
    assert ledger.add_fills("c", [_fill("a", "0.25"), _fill("b", "0.5")]) == 1
    assert [m.fill_id for m in published if isinstance(m, OrderFilled)] == ["a", "b"]
    order = ledger.get("c")
    assert order is not None
    assert order.fills_size == Decimal("0.75")


def test_an_order_is_unfinished_until_terminal_with_every_fill_published_and_booked() -> None:
    ledger, _ = _ledger()
    assert [o.client_order_id for o in ledger.unfinished()] == ["c"]
    ledger.move("c", S.FILLED, REST, filled_size=Decimal(1))
    assert [o.client_order_id for o in ledger.unfinished()] == ["c"]  # its fill lags
    ledger.add_fills("c", [_fill("a", "1")])
    assert [o.client_order_id for o in ledger.unfinished()] == ["c"]  # not booked yet
    ledger.book(_booked("a", "1"))
    assert ledger.unfinished() == []
    assert "c" in ledger  # finished orders are kept to recognise a resent intent


def test_a_finished_order_is_kept_without_its_intent_and_request_but_with_its_fills() -> None:
    ledger, _ = _ledger()
    intent = OrderIntent(
        message_id="m", ts_created_ns=1, intent_id="i", symbol="BTC-USD", side=Side.BUY,
        size=Decimal(1), reference_mark=Decimal(100), reason="test", valid_until_ns=2,
    )  # fmt: skip
    request = NewOrder(
        client_order_id="c", symbol="BTC-USD", side=Side.BUY, size=Decimal(1),
        order_type=OrderType.MARKET, time_in_force=TimeInForce.IOC,
    )  # fmt: skip
    ledger.mark("c", intent=intent, request=request)
    ledger.move("c", S.FILLED, REST, filled_size=Decimal(1))
    ledger.add_fills("c", [_fill("a", "1")])
    unfinished = ledger["c"]
    assert (unfinished.intent, unfinished.request) == (intent, request)  # still to be booked
    ledger.book(_booked("a", "1"))
    finished = ledger["c"]
    assert (finished.intent, finished.request) == (None, None)
    assert (finished.status, finished.fill_ids, finished.venue_order_id) == (
        S.FILLED, frozenset({"a"}), "v",
    )  # fmt: skip
    assert ledger.by_venue_id("v") is finished


def test_the_oldest_finished_orders_are_forgotten_past_a_thousand_and_open_ones_never() -> None:
    ledger, _ = _ledger()  # "c" stays acknowledged: open
    template = ledger["c"]
    for n in range(1_005):
        coid = f"f{n}"
        ledger.hold(attrs.evolve(template, client_order_id=coid, venue_order_id=f"v{n}"))
        ledger.move(coid, S.CANCELLED, REST)
    assert "c" in ledger
    assert [o.client_order_id for o in ledger.unfinished()] == ["c"]
    assert [n for n in range(1_005) if f"f{n}" in ledger] == list(range(5, 1_005))
    assert ledger.by_venue_id("v4") is None
