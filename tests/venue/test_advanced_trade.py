"""The Advanced Trade gateway: the catalogue, orders and fills in the gateway's terms, through
the venue link against the loopback exchange."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal

import attrs
import pytest

from perpsbot.clock import FakeClock
from perpsbot.errors import OrderNotFoundError
from perpsbot.messages import MarginRates, OrderType, ProductSpec, Side, TimeInForce
from perpsbot.sim import DuplicateClientOrderId, SimConfig, SimExchange
from perpsbot.venue import AdvancedTradeGateway, NewOrder, VenueGateway
from perpsbot.venue.advanced_trade import product_spec
from perpsbot.venue.records import FutureDetails, Product
from tests.support.sim_clients import venue_link

D = Decimal
PERP = ProductSpec(
    symbol="BIP-20DEC30-CDE", is_future=True, contract_size=D("0.01"), base_increment=D(1),
    price_increment=D(5), base_min_size=D(1), min_notional=None, max_leverage=D(10),
)  # fmt: skip

Connect = Callable[[DuplicateClientOrderId], VenueGateway]


@pytest.fixture
def connect() -> Iterator[Connect]:
    """A loopback exchange answering reused client ids as told, and the gateway its venue
    link hands out."""
    opened: list[tuple[SimExchange, VenueGateway]] = []

    def start(behaviour: DuplicateClientOrderId) -> VenueGateway:
        config = SimConfig(
            verify_auth=False, tick_interval_s=None, seed=5, duplicate_client_order_id=behaviour
        )
        sim = SimExchange(config).start()
        gateway = venue_link(sim, FakeClock()).gateway()
        opened.append((sim, gateway))
        return gateway

    yield start
    for sim, gateway in opened:
        gateway.close()
        sim.stop()


def _market_buy(coid: str) -> NewOrder:
    return NewOrder(
        client_order_id=coid, symbol="BTC-USD", side=Side.BUY, size=D("0.001"),
        order_type=OrderType.MARKET, time_in_force=TimeInForce.IOC,
    )  # fmt: skip


def test_the_venue_link_hands_out_the_advanced_trade_gateway(connect: Connect) -> None:
    assert isinstance(connect(DuplicateClientOrderId.RETURN_EXISTING), AdvancedTradeGateway)


@pytest.mark.parametrize("behaviour", list(DuplicateClientOrderId))
def test_a_reused_client_order_id_is_answered_with_the_existing_order_either_way(
    connect: Connect, behaviour: DuplicateClientOrderId
) -> None:
    gateway = connect(behaviour)
    first = gateway.create_order(_market_buy("gw-dup"))

    again = gateway.create_order(_market_buy("gw-dup"))

    assert again == first
    found = gateway.orders_by_client_id(["BTC-USD"], {"gw-dup"}).found
    assert found["gw-dup"].venue_order_id == first
    assert gateway.get_order(first).status == "FILLED"
    (fill,) = gateway.fills([first])
    assert (fill.venue_order_id, fill.side, fill.size) == (first, Side.BUY, D("0.001"))


def test_a_symbol_the_venue_does_not_list_is_left_out_of_the_products(connect: Connect) -> None:
    gateway = connect(DuplicateClientOrderId.RETURN_EXISTING)

    specs = gateway.products(["NOPE-USD", "BTC-USD"])

    assert list(specs) == ["BTC-USD"]
    assert specs["BTC-USD"].is_future is False


def test_an_order_id_the_venue_does_not_know_is_not_found(connect: Connect) -> None:
    gateway = connect(DuplicateClientOrderId.RETURN_EXISTING)

    with pytest.raises(OrderNotFoundError) as caught:
        gateway.get_order("no-such-order")

    assert caught.value.venue_order_id == "no-such-order"


def test_a_catalogue_product_becomes_a_spec() -> None:
    future = FutureDetails(
        contract_size=D("0.01"), contract_root_unit="BTC", contract_expiry_type="EXPIRING",
        contract_expiry_ns=None, funding_rate=None, funding_time_ns=None,
        funding_interval_s=3600, open_interest=None, index_price=None,
        intraday_long_margin_rate=None, intraday_short_margin_rate=None,
        overnight_long_margin_rate=None, overnight_short_margin_rate=None, max_leverage=D(10),
    )  # fmt: skip
    product = Product(
        product_id=PERP.symbol, product_type="FUTURE", display_name="BTC PERP", status="online",
        price=D(68_000), base_increment=D(1), quote_increment=D("0.01"),
        price_increment=D(5), base_min_size=D(1), base_max_size=D(5000),
        quote_min_size=D(0), quote_max_size=D(0), trading_disabled=False, cancel_only=True,
        limit_only=False, post_only=False, future=future,
    )  # fmt: skip
    assert product_spec(product) == attrs.evolve(PERP, tradable=False, base_max_size=D(5000))


def test_a_futures_margin_rates_come_from_the_catalogue_when_all_four_are_given() -> None:
    future = FutureDetails(
        contract_size=D("0.01"), contract_root_unit="BTC", contract_expiry_type="EXPIRING",
        contract_expiry_ns=None, funding_rate=None, funding_time_ns=None,
        funding_interval_s=3600, open_interest=None, index_price=None,
        intraday_long_margin_rate=D("0.1000185"), intraday_short_margin_rate=D("0.1000008"),
        overnight_long_margin_rate=D("0.245625"), overnight_short_margin_rate=D("0.306375"),
        max_leverage=None,
    )  # fmt: skip
    product = Product(
        product_id=PERP.symbol, product_type="FUTURE", display_name="BTC PERP", status="online",
        price=D(68_000), base_increment=D(1), quote_increment=D("0.01"),
        price_increment=D(5), base_min_size=D(1), base_max_size=D(5000),
        quote_min_size=D(0), quote_max_size=D(0), trading_disabled=False, cancel_only=False,
        limit_only=False, post_only=False, future=future,
    )  # fmt: skip
    assert product_spec(product).margin_rates == MarginRates(
        intraday_long=D("0.1000185"), intraday_short=D("0.1000008"),
        overnight_long=D("0.245625"), overnight_short=D("0.306375"),
    )  # fmt: skip
    partial = attrs.evolve(product, future=attrs.evolve(future, overnight_short_margin_rate=None))
    assert product_spec(partial).margin_rates is None
