"""The executor's venue work against a second venue's gateway (an in-memory one): sending,
following, settling and the reconciliation read take nothing of Advanced Trade."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs
import pytest

from perpsbot.actors.execution._order_desk import ATTEMPT_WINDOW_NS, OrderDesk
from perpsbot.actors.execution._order_states import TrackedOrder
from perpsbot.actors.execution._quantize import fitted_order
from perpsbot.actors.execution._reconcile import Lookup, Settle, plan, read_venue
from perpsbot.actors.execution._user_channel_view import UserChannelView
from perpsbot.clock import FakeClock
from perpsbot.config import ExecutionConfig
from perpsbot.ids import SequentialIds, client_order_id
from perpsbot.messages import (
    BookedFill,
    IntentPurpose,
    OrderFilled,
    OrderIntent,
    OrderStatus,
    OrderType,
    OrderUpdated,
    ProductsLoaded,
    Side,
    Stamper,
    TimeInForce,
    TradingState,
    TransitionSource,
)
from perpsbot.venue.gateway import NewOrder
from tests.support.fake_gateway import PERPETUAL, FakeGateway, FakeLink

D = Decimal
S = OrderStatus


@pytest.fixture
def gateway() -> FakeGateway:
    return FakeGateway(price=D(60_000))


def _desk(gateway: FakeGateway, published: list[Any]) -> OrderDesk:
    clock = FakeClock()
    desk = OrderDesk(
        link=FakeLink(gateway), clock=clock, stamper=Stamper(clock, SequentialIds()),
        settings=ExecutionConfig(), symbols=(PERPETUAL.symbol,), publish=published.append,
        reconcile_soon=lambda: None, fault=lambda _point: None, sync_journal=lambda: "sync",
    )  # fmt: skip
    desk.open()
    desk.products.load()
    desk.state = TradingState.ACTIVE
    return desk


def _fitted(
    desk: OrderDesk, intent_id: str, contracts: int, valid_until_ns: int = 10**19
) -> TrackedOrder:
    intent = OrderIntent(
        message_id=f"m-{intent_id}", ts_created_ns=0, intent_id=intent_id,
        symbol=PERPETUAL.symbol, side=Side.BUY, size=D(contracts), reference_mark=D(60_000),
        reason="test", valid_until_ns=valid_until_ns, leverage=D(5), purpose=IntentPurpose.ENTRY,
    )  # fmt: skip
    spec = desk.products.get(PERPETUAL.symbol)
    assert spec is not None
    order = fitted_order(intent, client_order_id(intent_id), spec, D(60_000))
    assert isinstance(order, TrackedOrder)
    return order


def test_the_desk_sends_follows_and_settles_an_order_through_another_venues_gateway(
    gateway: FakeGateway,
) -> None:
    published: list[Any] = []
    desk = _desk(gateway, published)
    assert [p.symbol for m in published if isinstance(m, ProductsLoaded) for p in m.products] == [
        PERPETUAL.symbol
    ]
    order = _fitted(desk, "perp-entry", 3)
    coid = order.client_order_id
    desk.ledger.hold(order)
    desk.ledger.mark(coid, journaled=True)

    assert desk.send(coid, TransitionSource.LOCAL) is None
    # No user channel: the order is read through the gateway, then its fills.
    UserChannelView(desk=desk, reconcile_now=lambda: None).poll()
    desk.ledger.book(
        BookedFill(fill_id="trade-order-1", intent_id="perp-entry", client_order_id=coid,
                   size=D(3))
    )  # fmt: skip

    assert gateway.created == [
        NewOrder(
            client_order_id=coid, symbol=PERPETUAL.symbol, side=Side.BUY, size=D(3),
            order_type=OrderType.MARKET, time_in_force=TimeInForce.IOC, leverage=D(5),
            send_by_ns=FakeClock().time_ns() + ATTEMPT_WINDOW_NS,
        )
    ]  # fmt: skip
    (fill,) = [m for m in published if isinstance(m, OrderFilled)]
    assert (fill.fill_id, fill.venue_order_id, fill.price, fill.fee) == (
        "trade-order-1", "order-1", D(60_000), D("0.25"),
    )  # fmt: skip
    updates = [m for m in published if isinstance(m, OrderUpdated)]
    assert [u.status for u in updates] == [S.SUBMITTED, S.ACKNOWLEDGED, S.FILLED]
    assert updates[-1].settled
    desk.close()
    assert gateway.closed


def test_a_lost_answer_is_found_by_client_id_through_another_venues_gateway(
    gateway: FakeGateway,
) -> None:
    published: list[Any] = []
    desk = _desk(gateway, published)
    order = _fitted(desk, "lost-answer", 2)
    assert order.request is not None
    venue_id = gateway.create_order(order.request)  # created, but the answer never came back
    lost = attrs.evolve(order, status=S.UNKNOWN, journaled=True)
    desk.ledger.hold(lost)

    view = read_venue(
        desk.gateway, specs=desk.products.specs,
        lookups=[Lookup(client_order_id=lost.client_order_id, venue_order_id=None,
                        symbol=lost.symbol)],
        fills_since_ns=0,
    )  # fmt: skip
    actions = plan(desk.ledger.snapshot(), [lost.client_order_id], view, now_ns=0)

    found = gateway.get_order(venue_id)
    assert actions == [Settle(client_order_id=lost.client_order_id, venue=found)]
    assert [(p.symbol, p.quantity) for p in view.positions] == [(PERPETUAL.symbol, D(2))]
    # Sent again under its client order id, it is the one existing order, never a second.
    assert desk.send(lost.client_order_id, TransitionSource.RECONCILIATION) is None
    assert len(gateway.created) == 1
    assert desk.ledger[lost.client_order_id].venue_order_id == venue_id


def test_an_attempt_is_never_sent_with_a_send_by_instant_past_its_intents_ttl(
    gateway: FakeGateway,
) -> None:
    desk = _desk(gateway, [])
    ttl_end_ns = FakeClock().time_ns() + ATTEMPT_WINDOW_NS // 2
    order = _fitted(desk, "short-lived", 1, valid_until_ns=ttl_end_ns)
    desk.ledger.hold(order)
    desk.ledger.mark(order.client_order_id, journaled=True)

    assert desk.send(order.client_order_id, TransitionSource.LOCAL) is None

    (sent,) = gateway.created
    assert sent.send_by_ns == ttl_end_ns
