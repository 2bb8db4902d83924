"""The Global Derivatives venue behind the gateway protocol, against the simulated gateway:
orders, fills and the account in the bot's terms, and lookups by client order id that prove
an order absent only past its send-by instant (docs/venues/global-derivatives.md 2.2, 2.3)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from perpsbot.clock import FakeClock
from perpsbot.errors import OrderOutcomeUnknownError
from perpsbot.messages import OrderType, Side, TimeInForce
from perpsbot.sim.gateway import SimGlobalGateway
from perpsbot.venue.gateway import NewOrder, VenueGateway
from perpsbot.venue.global_derivatives import (
    GlobalDerivativesClient,
    GlobalDerivativesGateway,
    RpcHttp,
)
from tests.venue.global_derivatives.conftest import BTC

D = Decimal
GRACE_MS = 5_000
ETH = "ETH_USDC-PERPETUAL"


@pytest.fixture
def venue(http: RpcHttp, sim_clock: FakeClock) -> GlobalDerivativesGateway:
    return GlobalDerivativesGateway(
        GlobalDerivativesClient(http=http), clock=sim_clock, grace_ms=GRACE_MS
    )


def _order(
    coid: str,
    side: Side = Side.BUY,
    *,
    send_by_ns: int | None = None,
    limit: Decimal | None = None,
) -> NewOrder:
    return NewOrder(
        client_order_id=coid, symbol=BTC, side=side, size=D(2),
        order_type=OrderType.MARKET if limit is None else OrderType.LIMIT,
        time_in_force=TimeInForce.IOC if limit is None else TimeInForce.GTC,
        limit_price=limit, send_by_ns=send_by_ns,
    )  # fmt: skip


def test_the_gateway_is_a_venue_gateway_that_does_not_deduplicate_client_ids(
    venue: GlobalDerivativesGateway,
) -> None:
    as_protocol: VenueGateway = venue
    assert as_protocol.deduplicates_client_ids is False


def test_products_are_the_linear_perpetuals_in_contracts(venue: GlobalDerivativesGateway) -> None:
    specs = venue.products([BTC, "NOT-LISTED", ETH])
    assert list(specs) == [BTC, ETH]
    btc = specs[BTC]
    assert btc.is_future
    assert btc.base_increment == btc.base_min_size == D(1)  # whole contracts
    assert btc.contract_size > 0
    assert btc.price_increment > 0


def test_a_market_order_fills_and_shows_as_a_position_in_contracts(
    venue: GlobalDerivativesGateway, sim_clock: FakeClock
) -> None:
    specs = venue.products([BTC])
    venue_id = venue.create_order(_order("pb-buy", send_by_ns=sim_clock.time_ns() + 10**10))

    order = venue.get_order(venue_id)
    assert (order.client_order_id, order.status, order.filled_size) == ("pb-buy", "FILLED", D(2))
    assert order.limit_price is None
    assert order.average_price is not None
    (fill,) = venue.fills([venue_id])
    assert (fill.venue_order_id, fill.side, fill.size, fill.liquidity) == (
        venue_id, Side.BUY, D(2), "TAKER",
    )  # fmt: skip
    assert venue.fills_since([BTC], 0) == [fill]
    account = venue.account(specs)
    (position,) = account.positions
    assert (position.symbol, position.quantity) == (BTC, D(2))
    assert account.futures is not None
    assert account.futures.threshold > 0
    assert account.equity is not None
    assert account.spot_wallets == {}


def test_a_resting_order_is_listed_open_and_cancelled_once(
    venue: GlobalDerivativesGateway,
) -> None:
    venue.products([BTC])
    venue_id = venue.create_order(_order("pb-rest", limit=D(1_000)))

    (listed,) = venue.open_orders([BTC])
    assert (listed.venue_order_id, listed.status, listed.limit_price) == (
        venue_id,
        "OPEN",
        D(1_000),
    )
    (cancelled,) = venue.cancel_orders([venue_id])
    assert cancelled.cancelled
    (again,) = venue.cancel_orders([venue_id])
    assert not again.cancelled
    assert again.reason
    assert venue.get_order(venue_id).status == "CANCELLED"


def test_an_order_whose_answer_was_lost_is_found_by_its_client_order_id(
    venue: GlobalDerivativesGateway, gateway: SimGlobalGateway, sim_clock: FakeClock
) -> None:
    venue.products([BTC])
    gateway.faults.lose_answers()
    with pytest.raises(OrderOutcomeUnknownError):
        venue.create_order(_order("pb-lost", send_by_ns=sim_clock.time_ns() + 10**10))

    lookup = venue.orders_by_client_id([BTC], {"pb-lost"})
    assert lookup.found["pb-lost"].status == "FILLED"
    assert lookup.unprovable == frozenset()
    assert [f.size for f in venue.fills([lookup.found["pb-lost"].venue_order_id])] == [D(2)]


def test_an_order_never_placed_is_proven_absent_only_past_its_send_by_instant_twice(
    venue: GlobalDerivativesGateway, sim_clock: FakeClock
) -> None:
    venue.products([BTC])
    with pytest.raises(OrderOutcomeUnknownError, match="timed_out"):
        venue.create_order(_order("pb-late", send_by_ns=sim_clock.time_ns() - 10**9))

    first = venue.orders_by_client_id([BTC], {"pb-late"})
    assert (first.found, first.unprovable) == ({}, {"pb-late"})  # within the grace
    sim_clock.advance(GRACE_MS / 1000)
    second = venue.orders_by_client_id([BTC], {"pb-late"})
    assert second.unprovable == {"pb-late"}  # one clean pass; a second must agree
    sim_clock.advance(GRACE_MS / 1000)
    proven = venue.orders_by_client_id([BTC], {"pb-late"})
    assert (proven.found, proven.unprovable) == ({}, frozenset())


def test_an_order_this_gateway_did_not_send_is_never_proven_absent(
    venue: GlobalDerivativesGateway, sim_clock: FakeClock
) -> None:
    # After a restart the attempt's deadline is not known.
    venue.products([BTC])
    venue.orders_by_client_id([BTC], {"pb-before-restart"})
    sim_clock.advance(3600)
    later = venue.orders_by_client_id([BTC], {"pb-before-restart"})
    assert later.unprovable == {"pb-before-restart"}


def test_of_two_orders_with_one_client_order_id_the_earliest_is_ours(
    venue: GlobalDerivativesGateway, sim_clock: FakeClock
) -> None:
    venue.products([BTC])
    first = venue.create_order(_order("pb-twice"))
    sim_clock.advance(1)
    venue.create_order(_order("pb-twice", Side.SELL))

    lookup = venue.orders_by_client_id([BTC], {"pb-twice"})
    assert lookup.found["pb-twice"].venue_order_id == first


def test_the_request_text_names_the_method_and_sizes_in_contracts(
    venue: GlobalDerivativesGateway,
) -> None:
    text = venue.request_text(_order("pb-text", Side.SELL, limit=D(50_000), send_by_ns=1))
    assert '"method": "private/sell"' in text
    assert '"contracts": "2"' in text
    assert '"label": "pb-text"' in text
    assert "valid_until" in text
    assert "amount" not in text
