"""Reconciliation's plan: what each order becomes given what the venue shows."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs
import pytest

from perpsbot.actors.execution._order_states import TrackedOrder
from perpsbot.actors.execution._reconcile import (
    Adopt,
    Expire,
    Settle,
    Submit,
    Unproven,
    Vanished,
    VenueView,
    plan,
)
from perpsbot.ids import client_order_id
from perpsbot.messages import (
    IntentPurpose,
    OrderIntent,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)
from perpsbot.venue.gateway import NewOrder, VenueOrder

D = Decimal
S = OrderStatus
TTL_END = 1_000


def _tracked(name: str, status: OrderStatus, venue_id: str | None = None) -> TrackedOrder:
    intent = OrderIntent(
        message_id="m", ts_created_ns=0, intent_id=name, symbol="BTC-USD", side=Side.BUY,
        size=D(1), reference_mark=D(1), reason="t", valid_until_ns=TTL_END,
    )  # fmt: skip
    return TrackedOrder(
        intent_id=name, client_order_id=client_order_id(name), correlation_id="m",
        symbol="BTC-USD", side=Side.BUY, purpose=IntentPurpose.ENTRY,
        order_type=OrderType.MARKET, size=D(1), limit_price=None, contract_size=D(1),
        status=status, intent=intent, venue_order_id=venue_id,
    )  # fmt: skip


def _venue_order(coid: str, status: str = "OPEN", **changes: Any) -> VenueOrder:
    order = VenueOrder(
        venue_order_id=f"v-{coid}", client_order_id=coid, symbol="BTC-USD", side=Side.BUY,
        status=status, size=D(1), limit_price=D(1), filled_size=D(0), average_price=None,
    )  # fmt: skip
    return attrs.evolve(order, **changes)


def _view(*orders: VenueOrder, open_ours: tuple[VenueOrder, ...] = ()) -> VenueView:
    return VenueView(
        orders={o.client_order_id: o for o in orders}, open_ours=open_ours, foreign_open=0,
        positions=(), spot_wallets={}, equity=None,
    )  # fmt: skip


def _plan(orders: list[TrackedOrder], view: VenueView, now_ns: int = TTL_END) -> list[object]:
    by_id = {o.client_order_id: o for o in orders}
    return list(plan(by_id, [o.client_order_id for o in orders if not o.status.terminal], view,
                     now_ns))  # fmt: skip


def test_an_order_the_venue_knows_is_settled_by_what_it_shows() -> None:
    order = _tracked("a", S.SUBMITTED)
    found = _venue_order(order.client_order_id, "FILLED")
    assert _plan([order], _view(found)) == [Settle(client_order_id=order.client_order_id,
                                                   venue=found)]  # fmt: skip


def test_an_unsent_order_is_sent_until_its_ttl_ends_and_expired_after() -> None:
    order = _tracked("b", S.PENDING_SUBMIT)
    coid = order.client_order_id
    assert _plan([order], _view(), now_ns=TTL_END) == [Submit(client_order_id=coid)]
    (expired,) = _plan([order], _view(), now_ns=TTL_END + 1)
    assert isinstance(expired, Expire)
    assert expired.client_order_id == coid


@pytest.mark.parametrize("status", [S.SUBMITTED, S.UNKNOWN])
def test_a_sent_order_past_its_ttl_is_looked_for_again_never_expired_on_one_miss(
    status: OrderStatus,
) -> None:
    # Its answer was lost: it may exist, and the venue's lists may lag. Expiring it on one
    # miss would lose its fill for good (trading-core review, finding 6).
    order = _tracked("f", status)
    assert _plan([order], _view(), now_ns=TTL_END + 1) == [
        Vanished(client_order_id=order.client_order_id)
    ]


def test_an_unknown_order_not_at_the_venue_is_sent_again_under_the_same_id() -> None:
    order = _tracked("c", S.UNKNOWN)
    assert _plan([order], _view()) == [Submit(client_order_id=order.client_order_id)]


@pytest.mark.parametrize("status", [S.SUBMITTED, S.UNKNOWN])
def test_a_sent_order_a_cancel_was_asked_for_is_looked_for_not_settled_as_never_sent(
    status: OrderStatus,
) -> None:
    # Its answer was lost: it may exist, filled, where the venue's lists do not show it yet.
    order = attrs.evolve(_tracked("g", status), cancel_requested=True)
    assert _plan([order], _view()) == [Vanished(client_order_id=order.client_order_id)]


def test_an_unsent_order_a_cancel_was_asked_for_goes_to_the_desk_which_cancels_it() -> None:
    order = attrs.evolve(_tracked("h", S.PENDING_SUBMIT), cancel_requested=True)
    assert _plan([order], _view()) == [Submit(client_order_id=order.client_order_id)]


def test_an_acknowledged_order_the_venue_no_longer_shows_has_vanished() -> None:
    order = _tracked("d", S.ACKNOWLEDGED, venue_id="v-d")
    assert _plan([order], _view()) == [Vanished(client_order_id=order.client_order_id)]


def test_open_orders_of_ours_that_we_do_not_hold_are_adopted() -> None:
    stranger = _venue_order(client_order_id("from-a-crash"))
    assert _plan([], _view(open_ours=(stranger,))) == [Adopt(venue=stranger)]


def test_an_order_we_finished_that_the_venue_shows_open_is_settled_anew() -> None:
    finished = _tracked("e", S.EXPIRED)
    still_open = _venue_order(finished.client_order_id)
    assert _plan([finished], _view(open_ours=(still_open,))) == [
        Settle(client_order_id=finished.client_order_id, venue=still_open)
    ]


# -- a venue that does not deduplicate client order ids (docs/venues/global-derivatives.md 2.2)

SEND_BY = 500


def _sent_once(name: str, status: OrderStatus, send_by_ns: int | None = SEND_BY) -> TrackedOrder:
    """An order sent once with the send-by instant ``send_by_ns``, its answer lost."""
    request = NewOrder(
        client_order_id=client_order_id(name), symbol="BTC-USD", side=Side.BUY, size=D(1),
        order_type=OrderType.MARKET, time_in_force=TimeInForce.IOC, send_by_ns=send_by_ns,
    )  # fmt: skip
    return attrs.evolve(_tracked(name, status), request=request)


def _undeduplicated(*unprovable: str) -> VenueView:
    return attrs.evolve(_view(), deduplicates_client_ids=False, unprovable=frozenset(unprovable))


@pytest.mark.parametrize("status", [S.SUBMITTED, S.UNKNOWN])
def test_a_lost_answer_proven_absent_after_its_send_by_instant_is_sent_again(
    status: OrderStatus,
) -> None:
    order = _sent_once("p", status)
    assert _plan([order], _undeduplicated(), now_ns=SEND_BY + 1) == [
        Submit(client_order_id=order.client_order_id)
    ]


def test_a_lost_answer_not_provably_absent_stays_unknown_and_is_not_sent_again() -> None:
    order = _sent_once("q", S.UNKNOWN)
    (action,) = _plan([order], _undeduplicated(order.client_order_id), now_ns=SEND_BY + 1)
    assert isinstance(action, Unproven)
    assert action.client_order_id == order.client_order_id
    assert "not provably absent" in action.reason


def test_a_lost_answer_shown_nowhere_before_its_send_by_instant_is_not_sent_again() -> None:
    # The request may still be on its way to the matching engine.
    order = _sent_once("r", S.UNKNOWN)
    (action,) = _plan([order], _undeduplicated(), now_ns=SEND_BY)
    assert isinstance(action, Unproven)
    assert "send-by instant has not passed" in action.reason


def test_a_lost_answer_whose_attempt_had_no_send_by_instant_is_never_sent_again() -> None:
    # E.g. restored from the journal after a restart: when it was sent is not known.
    order = _sent_once("s", S.SUBMITTED, send_by_ns=None)
    (action,) = _plan([order], _undeduplicated(), now_ns=TTL_END)
    assert isinstance(action, Unproven)
    assert "no send-by instant" in action.reason


def test_a_lost_answer_not_provably_absent_past_its_ttl_is_looked_for_as_vanished() -> None:
    order = _sent_once("t", S.UNKNOWN)
    assert _plan([order], _undeduplicated(order.client_order_id), now_ns=TTL_END + 1) == [
        Vanished(client_order_id=order.client_order_id)
    ]


def test_an_unsent_order_is_sent_whether_or_not_the_venue_deduplicates_client_ids() -> None:
    order = _tracked("u", S.PENDING_SUBMIT)
    assert _plan([order], _undeduplicated(order.client_order_id)) == [
        Submit(client_order_id=order.client_order_id)
    ]


def test_a_venue_that_deduplicates_client_ids_sends_a_lost_answer_again_at_once() -> None:
    # Advanced Trade: a reused client order id is never a second order (unchanged behaviour).
    order = _sent_once("w", S.UNKNOWN)
    assert _plan([order], _view(), now_ns=SEND_BY) == [
        Submit(client_order_id=order.client_order_id)
    ]


def test_an_order_restored_as_pending_submit_was_never_sent_where_ids_are_not_deduplicated() -> (
    None
):
    # There a request goes out only once the journal holds its SUBMITTED: journaled
    # PENDING_SUBMIT, it never reached the venue. Sent within its TTL, expired past it.
    order = attrs.evolve(_tracked("x", S.PENDING_SUBMIT), restored=True)
    assert _plan([order], _undeduplicated(order.client_order_id)) == [
        Submit(client_order_id=order.client_order_id)
    ]
    (past,) = _plan([order], _undeduplicated(), now_ns=TTL_END + 1)
    assert isinstance(past, Expire)
    assert past.client_order_id == order.client_order_id


def test_a_never_sent_order_matches_no_strangers_order_carrying_its_id_however_alike() -> None:
    # Identical in symbol, side and size, and carrying its client order id: not ours, since
    # ours never went out. Its fills are never taken, and the order itself is sent.
    order = attrs.evolve(_tracked("twin", S.PENDING_SUBMIT), restored=True)
    stranger = _venue_order(order.client_order_id, "FILLED", venue_order_id="v-stranger")
    assert _plan([order], _labels_shared(stranger)) == [
        Submit(client_order_id=order.client_order_id)
    ]
    (past,) = _plan([order], _labels_shared(stranger), now_ns=TTL_END + 1)
    assert isinstance(past, Expire)


def test_an_order_restored_as_pending_submit_is_sent_where_ids_are_deduplicated() -> None:
    order = attrs.evolve(_tracked("y", S.PENDING_SUBMIT), restored=True)
    assert _plan([order], _view()) == [Submit(client_order_id=order.client_order_id)]


def test_an_order_restored_as_pending_submit_past_its_ttl_is_looked_for_not_expired() -> None:
    # Killed with its request out, restarted after its TTL: the venue's lists may not show it
    # yet. Expired on one miss, it would let the strategy send another while it fills.
    order = attrs.evolve(_tracked("z", S.PENDING_SUBMIT), restored=True)
    assert _plan([order], _view(), now_ns=TTL_END + 1) == [
        Vanished(client_order_id=order.client_order_id)
    ]


def _labels_shared(*orders: VenueOrder) -> VenueView:
    """A venue that does not deduplicate client ids, showing ``orders`` for one id."""
    return attrs.evolve(
        _view(orders[0]), deduplicates_client_ids=False,
        carrying={orders[0].client_order_id: orders},
    )  # fmt: skip


def test_of_the_orders_carrying_an_unknown_orders_id_the_one_it_asked_for_is_settled() -> None:
    order = _tracked("shared", S.UNKNOWN)
    coid = order.client_order_id
    stranger = _venue_order(coid, "FILLED", venue_order_id="v-stranger", size=D(3))
    ours = _venue_order(coid, "FILLED", venue_order_id="v-ours")
    assert _plan([order], _labels_shared(stranger, ours), now_ns=0) == [
        Settle(client_order_id=coid, venue=ours)
    ]


def test_an_unknown_order_whose_id_only_others_carry_is_never_sent_again() -> None:
    order = _tracked("taken", S.UNKNOWN)
    stranger = _venue_order(order.client_order_id, "FILLED", side=Side.SELL)
    (action,) = _plan([order], _labels_shared(stranger), now_ns=0)
    assert isinstance(action, Unproven)
    assert "only others' orders carry its client order id" in action.reason


def test_an_open_order_of_another_id_carrying_a_finished_orders_id_is_not_settled_as_it() -> None:
    order = _tracked("done", S.FILLED, venue_id="v-ours")
    stranger = _venue_order(order.client_order_id, "OPEN", venue_order_id="v-stranger")
    view = attrs.evolve(_view(open_ours=(stranger,)), deduplicates_client_ids=False)
    assert _plan([order], view) == []
