"""The order state machine by value: ``(order, event) -> (order, effects)``, no actor."""

from __future__ import annotations

from decimal import Decimal

import attrs

from perpsbot.actors.execution._order_machine import (
    Announced,
    FillSeen,
    Refused,
    announced,
    booked,
    filled,
    moved,
)
from perpsbot.actors.execution._order_states import TrackedOrder
from perpsbot.messages import IntentPurpose, OrderStatus, OrderType, Side, TransitionSource
from perpsbot.venue.gateway import VenueFill

S, D = OrderStatus, Decimal
USER, RECONCILIATION = TransitionSource.USER_CHANNEL, TransitionSource.RECONCILIATION

ACKED = TrackedOrder(
    intent_id="i", client_order_id="c", correlation_id="m", symbol="BIP-20DEC30-CDE",
    side=Side.SELL, purpose=IntentPurpose.EXIT, order_type=OrderType.MARKET, size=D(2),
    limit_price=None, contract_size=D("0.01"), status=S.ACKNOWLEDGED, venue_order_id="v",
    published=S.ACKNOWLEDGED,
)  # fmt: skip


def _fill(fill_id: str, size: str) -> VenueFill:
    return VenueFill(
        fill_id=fill_id, venue_order_id="v", side=Side.SELL, price=D(70_000), size=D(size),
        fee=D(1), liquidity="TAKER", ts_ns=1,
    )  # fmt: skip


def test_filled_at_the_venue_is_held_terminal_and_announced_only_once_booked() -> None:
    held, effects = moved(ACKED, S.FILLED, USER, filled_size=D(2))
    assert effects == ()  # nobody may take it as finished: its fills are not in the position
    assert (held.status, held.settled, held.unsettled_size) == (S.FILLED, False, D(2))
    half, effects = booked(held, D(1))
    assert effects == ()
    assert half.unsettled_size == D(1)
    settled, effects = booked(half, D(1))
    (announced,) = effects
    assert isinstance(announced, Announced)
    assert (announced.previous, announced.order.status, announced.source) == (
        S.ACKNOWLEDGED, S.FILLED, USER,
    )  # fmt: skip
    assert settled.settled
    assert booked(settled, D(0))[1] == ()  # settled once, announced once


def test_an_order_ended_with_nothing_filled_is_announced_at_once() -> None:
    cancelled, (announced,) = moved(ACKED, S.CANCELLED, USER)
    assert isinstance(announced, Announced)
    assert cancelled.settled


def test_an_impossible_transition_is_refused_and_changes_nothing_but_reconciliation_may() -> None:
    done, _ = moved(ACKED, S.CANCELLED, USER)
    same, (refused,) = moved(done, S.ACKNOWLEDGED, USER)
    assert isinstance(refused, Refused)
    assert same == done
    reopened, (announced,) = moved(done, S.ACKNOWLEDGED, RECONCILIATION)
    assert isinstance(announced, Announced)
    assert reopened.status is S.ACKNOWLEDGED


def test_each_fill_id_is_new_once_and_a_fill_without_size_is_none() -> None:
    order, effects = filled(ACKED, [_fill("b", "1"), _fill("a", "0.5"), _fill("z", "0")])
    assert [e.fill_id for e in effects if isinstance(e, FillSeen)] == ["a", "b"]
    assert order.fills_size == D("1.5")
    again, effects = filled(order, [_fill("a", "0.5"), _fill("c", "0.5")])
    assert [e.fill_id for e in effects if isinstance(e, FillSeen)] == ["c"]
    assert again.fills_size == D(2)


def test_a_move_makes_its_bookkeeping_changes_in_the_same_step_announced_or_refused() -> None:
    sent, (announced,) = moved(ACKED, S.CANCEL_PENDING, USER, cancel_requested=True)
    assert isinstance(announced, Announced)
    assert (sent.status, sent.published, sent.cancel_requested) == (
        S.CANCEL_PENDING,
        S.CANCEL_PENDING,
        True,
    )
    assert announced.order is sent  # subscribers hear the order as it is held
    refused, (effect,) = moved(ACKED, S.PENDING_SUBMIT, USER, cancel_requested=True)
    assert isinstance(effect, Refused)
    assert (refused.status, refused.cancel_requested) == (S.ACKNOWLEDGED, True)
    same, effects = moved(ACKED, S.ACKNOWLEDGED, USER, cancel_requested=True)
    assert (effects, same.cancel_requested) == ((), True)


def test_announcing_a_held_order_makes_its_bookkeeping_changes_too() -> None:
    pending = attrs.evolve(ACKED, status=S.PENDING_SUBMIT, published=None, venue_order_id=None)
    journaled, (effect,) = announced(pending, TransitionSource.LOCAL, "journaled", journaled=True)
    assert isinstance(effect, Announced)
    assert (journaled.journaled, journaled.published, effect.previous) == (
        True, S.PENDING_SUBMIT, None,
    )  # fmt: skip
