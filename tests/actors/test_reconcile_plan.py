"""Reconciliation's plan: what each order becomes given what the venue shows."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs

from perpsbot.actors._order_states import TrackedOrder
from perpsbot.actors._reconcile import (
    Adopt,
    Expire,
    Settle,
    Submit,
    Vanished,
    VenueView,
    plan,
    position_drift,
    spot_positions,
)
from perpsbot.ids import client_order_id
from perpsbot.messages import (
    IntentPurpose,
    OrderIntent,
    OrderStatus,
    OrderType,
    Side,
    VenuePosition,
)
from perpsbot.venue.records import Order

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


def _venue_order(coid: str, status: str = "OPEN", **changes: Any) -> Order:
    order = Order(
        order_id=f"v-{coid}", client_order_id=coid, product_id="BTC-USD", side="BUY",
        status=status, order_type="LIMIT", time_in_force="GOOD_UNTIL_CANCELLED",
        configuration="limit_limit_gtc", base_size=D(1), quote_size=None, limit_price=D(1),
        post_only=False, filled_size=D(0), average_filled_price=None, total_fees=D(0),
        number_of_fills=0, ts_created_ns=None, leverage=None, margin_type="",
        reject_reason="",
    )  # fmt: skip
    return attrs.evolve(order, **changes)


def _view(*orders: Order, open_ours: tuple[Order, ...] = ()) -> VenueView:
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


def test_an_unknown_order_not_at_the_venue_is_sent_again_under_the_same_id() -> None:
    order = _tracked("c", S.UNKNOWN)
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


def test_drift_says_what_each_side_had_and_that_the_venue_won() -> None:
    venue = [
        VenuePosition(symbol="BTC-USD", quantity=D("0.02"), average_entry_price=None,
                      contract_size=D(1)),
        VenuePosition(symbol="ETH-USD", quantity=D(0), average_entry_price=None,
                      contract_size=D(1)),
        VenuePosition(symbol="BIP-20DEC30-CDE", quantity=D(-3), average_entry_price=None,
                      contract_size=D("0.01")),
    ]  # fmt: skip
    known = {"BTC-USD": D("0.01"), "ETH-USD": D(0), "BIP-20DEC30-CDE": D(-3)}
    assert position_drift(known, venue, source="journal") == [
        "journal had BTC-USD long 0.01, venue shows long 0.02: adopted the venue's"
    ]
    assert position_drift({}, venue[2:], source="risk") == [
        "risk had BIP-20DEC30-CDE flat, venue shows short 3: adopted the venue's"
    ]


def test_a_spot_position_is_the_bots_own_not_the_wallet_it_trades_from() -> None:
    positions, lines = spot_positions(
        {"BTC-USD": D("0.02")}, {"BTC-USD": D(1), "ETH-USD": D(10)}, source="journal"
    )
    assert [(p.symbol, p.quantity) for p in positions] == [("BTC-USD", D("0.02")), ("ETH-USD", 0)]
    assert lines == []


def test_a_spot_position_larger_than_the_wallet_shrinks_to_it_and_says_so() -> None:
    positions, lines = spot_positions(
        {"BTC-USD": D("0.5"), "ETH-USD": D(-1)}, {"BTC-USD": D("0.3"), "ETH-USD": D(2)},
        source="risk",
    )  # fmt: skip
    assert [(p.symbol, p.quantity) for p in positions] == [("BTC-USD", D("0.3")), ("ETH-USD", 0)]
    assert lines == [
        "risk had BTC-USD long 0.5, the wallet holds 0.3 BTC: now long 0.3",
        "risk had ETH-USD short 1, the wallet holds 2 ETH: now flat",
    ]
