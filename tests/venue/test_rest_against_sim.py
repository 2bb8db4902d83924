"""The real REST client against the loopback simulated exchange, including its faults."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from perpsbot.clock import FakeClock, SystemClock
from perpsbot.errors import (
    OrderOutcomeUnknownError,
    OrderRejectedError,
    ProductNotFoundError,
    VenueArgumentError,
    VenueAuthError,
    VenueRateLimitedError,
    VenueResponseError,
    VenueTransportError,
)
from perpsbot.runtime.testing import eventually
from perpsbot.sim import SimExchange
from perpsbot.venue import (
    Backoff,
    CdpCredentials,
    JwtSigner,
    LimitGtc,
    LimitGtd,
    LimitIoc,
    MarginType,
    MarketIoc,
    OrderConfiguration,
    OrderRequest,
    OrderSide,
    RestClient,
    RetryPolicy,
    VenueRateLimiter,
)
from tests.venue.conftest import FakeWait

PERP = "BIP-20DEC30-CDE"
RETRY = RetryPolicy(max_attempts=4, backoff=Backoff(initial_s=0.5, max_s=8.0, jitter=0.5))


@pytest.fixture
def waits() -> FakeWait:
    return FakeWait(FakeClock())


@pytest.fixture
def make_client(
    sim: SimExchange, credentials: CdpCredentials, waits: FakeWait
) -> Iterator[Callable[..., RestClient]]:
    clients: list[RestClient] = []

    def make(**overrides: Any) -> RestClient:
        settings: dict[str, Any] = {
            "base_url": sim.rest_base_url,
            "signer": JwtSigner(credentials, clock=SystemClock()),
            "limiter": VenueRateLimiter(clock=waits.clock, wait=waits),
            "retry": RETRY,
            "rng": random.Random(2),
            # One call's deadline, its waits on the fake clock included: room for the whole
            # retry schedule and a capped Retry-After (a test about deadlines sets its own).
            "timeout_s": 30.0,
        }
        settings.update(overrides)
        client = RestClient(**settings)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., RestClient]) -> RestClient:
    return make_client()


def _market_buy(coid: str, product_id: str = "BTC-USD") -> OrderRequest:
    return OrderRequest(
        client_order_id=coid,
        product_id=product_id,
        side=OrderSide.BUY,
        configuration=MarketIoc(quote_size=Decimal(100)),
    )


def _orders_with(client: RestClient, coid: str) -> int:
    return sum(1 for o in client.list_orders() if o.client_order_id == coid)


# --- market data and accounts -----------------------------------------------------------------


def test_products_include_the_perp_style_future_with_contract_size_and_funding(
    client: RestClient,
) -> None:
    products = {p.product_id: p for p in client.products()}
    perp = products[PERP]
    assert perp.is_perpetual
    assert perp.future is not None
    assert perp.future.contract_size == Decimal("0.01")
    assert perp.future.funding_interval_s == 3600
    assert perp.price_increment == Decimal(5)
    assert perp.base_increment == Decimal(1)
    assert not products["BTC-USD"].is_perpetual
    assert client.product(PERP) == perp or client.product(PERP).product_id == PERP


def test_market_data_endpoints_parse_into_records(client: RestClient) -> None:
    book = client.product_book("BTC-USD", limit=5)
    assert book.bids
    assert book.asks
    assert book.bids[0][0] < book.asks[0][0]
    (top,) = client.best_bid_ask(["BTC-USD"])
    assert top.mid is not None
    assert top.bid is not None
    assert top.ask is not None
    ticker = client.ticker("BTC-USD", limit=3)
    assert ticker.best_bid is not None
    now_s = client.server_time().ts_ns // 10**9
    candles = client.candles("BTC-USD", start_s=now_s - 3600, end_s=now_s)
    assert all(c.low <= c.high for c in candles)


def test_public_endpoints_work_without_credentials(make_client: Callable[..., RestClient]) -> None:
    anonymous = make_client(signer=None)
    assert anonymous.product("BTC-USD").product_id == "BTC-USD"
    with pytest.raises(VenueAuthError, match="needs credentials"):
        anonymous.accounts()


def test_accounts_and_futures_balances_parse_money_as_decimals(client: RestClient) -> None:
    accounts = {a.currency: a for a in client.accounts()}
    assert accounts["USD"].available > 0
    summary = client.cfm_balance_summary()
    assert isinstance(summary.futures_buying_power, Decimal)
    assert client.cfm_positions() == []


def test_transaction_summary_sums_our_fills_and_carries_the_fee_tier(
    sim: SimExchange, client: RestClient
) -> None:
    client.create_order(_market_buy("rest-fees-1"))
    client.create_order(
        OrderRequest(
            client_order_id="rest-fees-2",
            product_id=PERP,
            side=OrderSide.BUY,
            configuration=MarketIoc(base_size=Decimal(1)),
        )
    )
    fills = client.fills()
    contract = client.product(PERP).future
    assert contract is not None
    size = {"BTC-USD": Decimal(1), PERP: contract.contract_size}

    summary = client.transaction_summary()
    futures = client.transaction_summary(product_type="FUTURE")

    # The venue sends volume and fees as JSON numbers (floats), hence approx.
    assert summary.total_volume == pytest.approx(
        sum(f.price * f.size * size[f.product_id] for f in fills)
    )
    assert summary.total_fees == pytest.approx(sum(f.commission for f in fills))
    assert futures.total_fees == pytest.approx(
        sum(f.commission for f in fills if f.product_id == PERP)
    )
    assert summary.fee_tier.maker_fee_rate == sim.config.maker_fee_rate
    assert summary.fee_tier.taker_fee_rate == sim.config.taker_fee_rate


def test_unknown_product_is_a_404_response_error(client: RestClient) -> None:
    with pytest.raises(VenueResponseError) as caught:
        client.product("NOPE-USD")
    assert caught.value.status == 404


def test_a_key_the_venue_does_not_know_is_an_auth_error(
    make_client: Callable[..., RestClient],
) -> None:
    other = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    stranger = JwtSigner(CdpCredentials("other", other.decode()), clock=SystemClock())
    with pytest.raises(VenueAuthError, match="refused with 401"):
        make_client(signer=stranger).accounts()


# --- orders -----------------------------------------------------------------------------------


def test_market_order_is_created_filled_and_listed(client: RestClient) -> None:
    created = client.create_order(_market_buy("rest-mkt-1"))
    assert created.client_order_id == "rest-mkt-1"
    order = client.get_order(created.order_id)
    assert order.status == "FILLED"
    assert order.filled_size > 0
    assert client.find_order("rest-mkt-1", product_id="BTC-USD") == order
    fills = client.fills(order_ids=[created.order_id])
    assert fills
    assert all(f.order_id == created.order_id for f in fills)


def test_fills_since_a_time_leave_out_the_ones_that_traded_before(client: RestClient) -> None:
    # Reconciliation's sweep reads a window of fills (start_sequence_timestamp), not all.
    first = client.create_order(_market_buy("rest-since-1"))
    (before,) = client.fills(order_ids=[first.order_id])
    assert before.ts_trade_ns is not None
    second = client.create_order(_market_buy("rest-since-2"))
    (after,) = client.fills(order_ids=[second.order_id])
    assert after.ts_trade_ns is not None
    assert after.ts_trade_ns > before.ts_trade_ns
    since = client.fills(product_ids=["BTC-USD"], since_ns=after.ts_trade_ns)
    assert [f.order_id for f in since] == [second.order_id]


def test_limit_orders_of_each_kind_are_accepted(client: RestClient) -> None:
    bid = client.best_bid_ask(["BTC-USD"])[0].bid
    assert bid is not None
    low = (bid * Decimal("0.9")).quantize(Decimal("0.01"))
    configs: list[OrderConfiguration] = [
        LimitGtc(base_size=Decimal("0.001"), limit_price=low, post_only=True),
        LimitGtd(base_size=Decimal("0.001"), limit_price=low, end_time_ns=4_102_444_800 * 10**9),
        LimitIoc(base_size=Decimal("0.001"), limit_price=low),
    ]
    for i, config in enumerate(configs):
        request = OrderRequest(
            client_order_id=f"rest-lim-{i}", product_id="BTC-USD", side=OrderSide.BUY,
            configuration=config,
        )  # fmt: skip
        created = client.create_order(request)
        order = client.get_order(created.order_id)
        assert order.limit_price == low
    statuses = {o.client_order_id: o.status for o in client.list_orders(product_ids=["BTC-USD"])}
    assert statuses["rest-lim-0"] == "OPEN"
    assert statuses["rest-lim-2"] in ("CANCELLED", "EXPIRED")


def test_futures_order_carries_leverage_and_margin_type(client: RestClient) -> None:
    request = OrderRequest(
        client_order_id="rest-perp-1",
        product_id=PERP,
        side=OrderSide.BUY,
        configuration=MarketIoc(base_size=Decimal(1)),
        leverage=Decimal(2),
        margin_type=MarginType.CROSS,
    )
    preview = client.preview_order(request)
    assert preview.errs == ()
    created = client.create_order(request)
    assert client.get_order(created.order_id).margin_type == "CROSS"
    (position,) = client.cfm_positions()
    assert position.product_id == PERP
    assert position.signed_contracts == 1


def test_a_post_only_order_that_would_cross_is_a_rejection_not_a_success(
    client: RestClient,
) -> None:
    ask = client.best_bid_ask(["BTC-USD"])[0].ask
    assert ask is not None
    request = OrderRequest(
        client_order_id="rest-cross-1",
        product_id="BTC-USD",
        side=OrderSide.BUY,
        configuration=LimitGtc(base_size=Decimal("0.001"), limit_price=ask * 2, post_only=True),
    )
    with pytest.raises(OrderRejectedError) as caught:
        client.create_order(request)
    assert caught.value.reason == "INVALID_LIMIT_PRICE_POST_ONLY"
    assert caught.value.client_order_id == "rest-cross-1"


def test_batch_cancel_reports_each_order(client: RestClient) -> None:
    bid = client.best_bid_ask(["BTC-USD"])[0].bid
    assert bid is not None
    request = OrderRequest(
        client_order_id="rest-cancel-1",
        product_id="BTC-USD",
        side=OrderSide.BUY,
        configuration=LimitGtc(
            base_size=Decimal("0.001"), limit_price=(bid / 2).quantize(Decimal("0.01"))
        ),
    )
    created = client.create_order(request)
    results = {r.order_id: r for r in client.cancel_orders([created.order_id, "unknown-id"])}
    assert results[created.order_id].success
    assert not results["unknown-id"].success


# --- faults -----------------------------------------------------------------------------------


def test_429_with_retry_after_waits_that_long_then_succeeds(
    sim: SimExchange, client: RestClient, waits: FakeWait
) -> None:
    sim.faults.http_error(429, retry_after_s=3, count=1)
    assert client.accounts()
    assert 3.0 in [round(w, 6) for w in waits.waits]


def test_429_without_retry_after_backs_off_by_the_schedule(
    sim: SimExchange, client: RestClient, waits: FakeWait
) -> None:
    sim.faults.http_error(429, count=2)
    assert client.accounts()
    assert len(waits.waits) == 2
    for attempt, delay in enumerate(waits.waits, start=1):
        assert RETRY.backoff.floor_s(attempt) <= delay <= RETRY.backoff.ceiling_s(attempt)


def test_a_429_holds_the_shared_budget_for_every_caller(
    sim: SimExchange, make_client: Callable[..., RestClient], waits: FakeWait
) -> None:
    limiter = VenueRateLimiter(clock=waits.clock, wait=waits)
    first, second = make_client(limiter=limiter), make_client(limiter=limiter)
    sim.faults.http_error(429, retry_after_s=5, count=1)
    first.accounts()
    second.accounts()
    assert sum(waits.waits) >= 5.0
    assert limiter.private.waited_s >= 5.0


def test_persistent_429_surfaces_as_rate_limited(sim: SimExchange, client: RestClient) -> None:
    sim.faults.http_error(429, count=10)
    with pytest.raises(VenueRateLimitedError):
        client.accounts()


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retried(sim: SimExchange, client: RestClient, status: int) -> None:
    sim.faults.http_error(status, count=2)
    assert client.product_book("BTC-USD").bids


def test_persistent_server_errors_surface_as_transport_errors(
    sim: SimExchange, client: RestClient
) -> None:
    sim.faults.http_error(503, count=10, body="<html>down</html>")
    with pytest.raises(VenueTransportError, match="503"):
        client.accounts()


def test_a_response_slower_than_the_deadline_ends_the_call_within_it_unretried(
    sim: SimExchange, make_client: Callable[..., RestClient]
) -> None:
    quick = make_client(timeout_s=0.2)
    sim.faults.slow_responses(0.6, count=1)
    with pytest.raises(VenueTransportError, match=r"must complete within its deadline \(0.2s\)"):
        quick.accounts()  # before: retried past its timeout, and answered
    assert quick.accounts()  # the next call is quick again


def test_lost_order_ack_is_resolved_by_client_order_id_without_a_second_order(
    sim: SimExchange, client: RestClient
) -> None:
    sim.faults.lose_order_ack(1)
    created = client.create_order(_market_buy("rest-lost-1"))
    assert created.client_order_id == "rest-lost-1"
    assert _orders_with(client, "rest-lost-1") == 1
    assert client.get_order(created.order_id).client_order_id == "rest-lost-1"


def test_lost_ack_with_late_visibility_retries_with_the_same_id_and_one_order(
    sim: SimExchange, client: RestClient
) -> None:
    sim.faults.delay_order_visibility(0.5)
    sim.faults.lose_order_ack(1)
    created = client.create_order(_market_buy("rest-lost-2"))
    # The order turns visible after 0.5 s; it must then be the only one with that id.
    eventually(lambda: _orders_with(client, "rest-lost-2") >= 1, 5, "the order to show")
    assert _orders_with(client, "rest-lost-2") == 1
    assert client.get_order(created.order_id).client_order_id == "rest-lost-2"


def test_a_server_error_on_create_looks_up_before_retrying(
    sim: SimExchange, client: RestClient
) -> None:
    sim.faults.http_error(502, count=1, path="/orders")
    created = client.create_order(_market_buy("rest-502-1"))
    assert _orders_with(client, "rest-502-1") == 1
    assert created.order_id


def test_close_position_flattens_a_futures_position(client: RestClient) -> None:
    request = OrderRequest(
        client_order_id="rest-perp-open",
        product_id=PERP,
        side=OrderSide.SELL,
        configuration=MarketIoc(base_size=Decimal(3)),
        leverage=Decimal(1),
    )
    client.create_order(request)
    assert [p.signed_contracts for p in client.cfm_positions()] == [-3]
    closed = client.close_position(client_order_id="rest-perp-close", product_id=PERP)
    assert client.get_order(closed.order_id).side == "BUY"
    assert all(p.number_of_contracts == 0 for p in client.cfm_positions())


def test_close_position_without_a_position_is_a_rejection(client: RestClient) -> None:
    with pytest.raises(OrderRejectedError) as caught:
        client.close_position(client_order_id="rest-close-none", product_id=PERP)
    assert caught.value.reason == "INVALID_REQUEST"


@pytest.mark.slow
def test_shared_budget_keeps_concurrent_callers_under_the_venues_limit(
    make_sim: Callable[..., SimExchange], credentials: CdpCredentials
) -> None:
    strict = make_sim(enforce_rate_limits=True)
    limiter = VenueRateLimiter(clock=SystemClock())
    errors: list[BaseException] = []

    def caller() -> None:
        client = RestClient(
            base_url=strict.rest_base_url,
            signer=JwtSigner(credentials, clock=SystemClock()),
            limiter=limiter,
            retry=RetryPolicy(max_attempts=1),  # a single 429 would surface here
        )
        try:
            for _ in range(20):
                client.cfm_positions()
        except BaseException as exc:  # collected and asserted on by the test thread
            errors.append(exc)
        finally:
            client.close()

    threads = [threading.Thread(target=caller) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert limiter.private.acquired == 60


def test_a_huge_retry_after_is_capped(
    sim: SimExchange, make_client: Callable[..., RestClient], waits: FakeWait
) -> None:
    capped = make_client(retry=RetryPolicy(max_attempts=2, max_retry_after_s=10))
    sim.faults.http_error(429, retry_after_s=3600, count=1)
    assert capped.accounts()
    assert max(waits.waits) == pytest.approx(10)


def test_a_create_that_times_out_is_an_unknown_outcome_with_exactly_one_order(
    sim: SimExchange, make_client: Callable[..., RestClient], caplog: pytest.LogCaptureFixture
) -> None:
    impatient = make_client(timeout_s=0.2)
    sim.faults.slow_responses(0.6, count=1)  # the first POST /orders answers too late
    with pytest.raises(OrderOutcomeUnknownError) as caught:
        impatient.create_order(_market_buy("rest-timeout-1"))  # no time left to look it up
    assert "rest-timeout-1 attempt 1 failed in transit" in caplog.text
    assert caught.value.client_order_id == "rest-timeout-1"
    # The late original is the one order with that client_order_id; a reconciliation finds it.
    eventually(lambda: _orders_with(impatient, "rest-timeout-1") == 1, 5, "one order")
    found = impatient.find_order("rest-timeout-1", product_id="BTC-USD")
    assert found is not None


def test_candles_over_the_page_limit_are_a_venue_argument_error(client: RestClient) -> None:
    now_s = client.server_time().ts_ns // 10**9

    with pytest.raises(VenueArgumentError, match="within 350 candles") as caught:
        client.candles("BTC-USD", start_s=now_s - 351 * 60, end_s=now_s)

    assert caught.value.status == 400


def test_candles_of_a_product_the_venue_does_not_list_are_product_not_found(
    client: RestClient,
) -> None:
    now_s = client.server_time().ts_ns // 10**9

    with pytest.raises(ProductNotFoundError, match="'NOPE-USD' must be a product"):
        client.candles("NOPE-USD", start_s=now_s - 60, end_s=now_s)


def test_candles_page_holds_at_most_the_limit_asked(client: RestClient) -> None:
    now_s = client.server_time().ts_ns // 10**9 // 60 * 60

    candles = client.candles("BTC-USD", start_s=now_s - 3600, end_s=now_s - 3000, limit=10)

    assert [c.start_s for c in candles] == [now_s - 3000 - 60 * i for i in range(1, 11)]
