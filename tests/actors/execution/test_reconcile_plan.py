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
)
from perpsbot.venue.gateway import VenueOrder

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
