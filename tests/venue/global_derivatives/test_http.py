"""The client over HTTP against the simulated gateway: the token exchange and its renewal,
typed answers, typed errors, too_many_requests waited out, lost answers unknown."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest

from perpsbot.clock import FakeClock
from perpsbot.errors import (
    OrderNotFoundError,
    OrderOutcomeUnknownError,
    OrderRejectedError,
    VenueAuthError,
    VenueRateLimitedError,
    VenueTransportError,
)
from perpsbot.runtime.testing import eventually
from perpsbot.sim import SimExchange
from perpsbot.sim.gateway import GatewayConfig, SimGlobalGateway
from perpsbot.venue._http import RetryPolicy
from perpsbot.venue.auth import JwtSigner
from perpsbot.venue.global_derivatives import GlobalDerivativesClient, RpcHttp
from tests.support.keys import make_credentials
from tests.support.waits import FakeWait
from tests.venue.global_derivatives.conftest import BTC


@pytest.fixture
def over_http(http: RpcHttp) -> GlobalDerivativesClient:
    return GlobalDerivativesClient(http=http)


@pytest.fixture
def make_gateway_http(
    sim: SimExchange, make_http: Callable[..., RpcHttp]
) -> Iterator[Callable[[GatewayConfig], GlobalDerivativesClient]]:
    """A client over HTTP to a second gateway face of ``sim`` with its own settings."""
    started: list[SimGlobalGateway] = []

    def make(config: GatewayConfig) -> GlobalDerivativesClient:
        gateway = SimGlobalGateway(sim, config).start()
        started.append(gateway)
        return GlobalDerivativesClient(http=make_http(base_url=gateway.http_url))

    yield make
    for gateway in started:
        gateway.stop()


def test_a_market_buy_exchanges_the_cdp_key_for_a_token_and_is_typed(
    over_http: GlobalDerivativesClient, gateway: SimGlobalGateway
) -> None:
    placed = over_http.place("buy", BTC, Decimal(3), label="pb-1", order_type="market")
    assert (placed.order.order_state, placed.order.label, placed.order.price) == (
        "filled",
        "pb-1",
        None,
    )
    assert sum(t.contracts or 0 for t in placed.trades) == 3
    (position,) = over_http.positions()
    assert (position.direction, position.size) == ("buy", Decimal("0.03"))
    assert gateway.auth_count == 1


def test_instruments_and_the_ticker_come_back_as_decimals(
    over_http: GlobalDerivativesClient,
) -> None:
    (btc,) = [i for i in over_http.instruments() if i.instrument_name == BTC]
    assert (btc.contract_size, btc.tick_size) == (Decimal("0.01"), Decimal(5))
    ticker = over_http.ticker(BTC)
    assert isinstance(ticker.mark_price, Decimal)
    assert ticker.current_funding is not None


@pytest.mark.parametrize(
    ("lifetime_s", "renewed_after_s"),
    [(600, 480), (3600, 720)],
    ids=["at four fifths of its life", "never later than twelve minutes"],
)
def test_the_token_is_exchanged_again_before_it_expires(
    make_gateway_http: Callable[[GatewayConfig], GlobalDerivativesClient],
    client_clock: FakeClock,
    lifetime_s: float,
    renewed_after_s: float,
) -> None:
    client = make_gateway_http(GatewayConfig(http_token_lifetime_s=lifetime_s, credit_pool=10**9))
    client.account_summary()
    client_clock.advance(renewed_after_s - 1)
    client.account_summary()
    assert client.http.tokens is not None
    assert client.http.tokens.exchanges == 1
    client_clock.advance(1)
    client.account_summary()
    assert client.http.tokens.exchanges == 2


def test_a_token_the_venue_refuses_is_exchanged_again_and_the_read_retried_once(
    over_http: GlobalDerivativesClient, gateway: SimGlobalGateway, sim_clock: FakeClock
) -> None:
    over_http.account_summary()
    sim_clock.advance(900)  # the venue's clock passes the token's expiry; ours does not
    assert over_http.account_summary().currency == "USDC"
    assert gateway.auth_count == 2


def test_a_cdp_key_the_venue_does_not_know_is_an_auth_error(
    make_http: Callable[..., RpcHttp], sim: SimExchange
) -> None:
    stranger, _ = make_credentials()
    http = make_http(signer=JwtSigner(stranger, clock=sim.clock))
    with pytest.raises(VenueAuthError, match="13004"):
        GlobalDerivativesClient(http=http).positions()


def test_too_many_requests_holds_the_budget_and_the_read_is_waited_out(
    over_http: GlobalDerivativesClient, gateway: SimGlobalGateway, fake_wait: FakeWait
) -> None:
    over_http.get_time_ms()
    gateway.faults.too_many_requests(2)
    assert over_http.get_time_ms() > 0
    assert sum(fake_wait.waits) > 0


def test_too_many_requests_on_an_order_is_rate_limited_not_sent_again(
    over_http: GlobalDerivativesClient, gateway: SimGlobalGateway
) -> None:
    gateway.faults.too_many_requests(1)
    with pytest.raises(VenueRateLimitedError, match="10028"):
        over_http.place("buy", BTC, Decimal(1), label="pb-rl", order_type="market")
    assert over_http.order_state_by_label("BTC", "pb-rl") == []


def test_a_lost_answer_to_an_order_is_unknown_and_the_order_exists(
    over_http: GlobalDerivativesClient, gateway: SimGlobalGateway
) -> None:
    gateway.faults.lose_answers()
    with pytest.raises(OrderOutcomeUnknownError) as raised:
        over_http.place("buy", BTC, Decimal(1), label="pb-lost", order_type="market")
    assert raised.value.client_order_id == "pb-lost"
    assert [o.order_state for o in over_http.order_state_by_label("BTC", "pb-lost")] == ["filled"]


def test_a_refusal_is_a_rejected_order(over_http: GlobalDerivativesClient) -> None:
    with pytest.raises(OrderRejectedError) as raised:
        over_http.place("buy", BTC, Decimal(4000), label="pb-big", order_type="market")
    assert raised.value.reason == "not_enough_funds"


def test_an_answer_whose_code_is_not_pinned_leaves_the_order_unknown(
    over_http: GlobalDerivativesClient, sim_clock: FakeClock
) -> None:
    now_ms = over_http.get_time_ms()
    sim_clock.advance(1)
    with pytest.raises(OrderOutcomeUnknownError, match="timed_out"):
        over_http.place(
            "buy", BTC, Decimal(1), label="pb-late", order_type="market", valid_until_ms=now_ms
        )


def test_an_unknown_order_id_is_order_not_found(over_http: GlobalDerivativesClient) -> None:
    with pytest.raises(OrderNotFoundError):
        over_http.order_state("nope")


def test_a_post_only_order_is_sent_with_reject_post_only_and_refused_when_crossing(
    over_http: GlobalDerivativesClient,
) -> None:
    ask = over_http.ticker(BTC).best_ask_price
    assert ask is not None
    with pytest.raises(OrderRejectedError, match="11054"):
        over_http.place("buy", BTC, Decimal(1), label="pb-po", price=ask + 100, post_only=True)


def test_an_order_answered_after_its_deadline_is_unknown_and_may_still_be_placed(
    make_http: Callable[..., RpcHttp], gateway: SimGlobalGateway
) -> None:
    client = GlobalDerivativesClient(http=make_http(timeout_s=0.3))
    client.account_summary()  # the token first: the slow request is the order itself
    gateway.faults.slow_requests(0.6)
    with pytest.raises(OrderOutcomeUnknownError, match="pb-slow"):
        client.place("buy", BTC, Decimal(1), label="pb-slow", order_type="market")
    placed = eventually(
        lambda: client.order_state_by_label("BTC", "pb-slow"), what="the late order placed"
    )
    assert [o.order_state for o in placed] == ["filled"]


def test_a_read_that_outlasts_its_deadline_is_a_transport_error(
    make_http: Callable[..., RpcHttp], gateway: SimGlobalGateway
) -> None:
    client = GlobalDerivativesClient(
        http=make_http(timeout_s=0.3, retry=RetryPolicy(max_attempts=1))
    )
    gateway.faults.slow_requests(0.6)
    with pytest.raises(VenueTransportError, match=r"deadline|timed out"):
        client.get_time_ms()
