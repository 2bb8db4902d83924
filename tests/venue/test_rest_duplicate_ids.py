"""A reused client_order_id, through the real REST client against the real sim: whether the
venue returns the existing order or refuses the duplicate, the client reports the one order
that exists, and never a rejection.

The sim runs on the fake clock that the client's backoff waits advance, so "the venue's
list does not show the order yet" is a matter of how far that clock has moved.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest

from perpsbot.clock import FakeClock
from perpsbot.errors import OrderOutcomeUnknownError
from perpsbot.sim import DuplicateClientOrderId, SimConfig, SimExchange
from perpsbot.venue import (
    Backoff,
    CdpCredentials,
    JwtSigner,
    MarketIoc,
    OrderRequest,
    OrderSide,
    RestClient,
    RetryPolicy,
    VenueRateLimiter,
)
from tests.support.waits import FakeWait

BEHAVIOURS = list(DuplicateClientOrderId)
# One second before each resend, exactly: an order hidden for 0.5 s shows on the resend.
RETRY = RetryPolicy(max_attempts=4, backoff=Backoff(initial_s=1.0, max_s=8.0, jitter=0.0))

Connect = Callable[[DuplicateClientOrderId], tuple[SimExchange, RestClient]]


@pytest.fixture
def venue_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def waits(venue_clock: FakeClock) -> FakeWait:
    return FakeWait(venue_clock)


@pytest.fixture
def connect(
    venue_clock: FakeClock, waits: FakeWait, credentials: CdpCredentials
) -> Iterator[Connect]:
    """A sim answering reused ids as told, on ``venue_clock``, and a client of it."""
    opened: list[tuple[SimExchange, RestClient]] = []

    def start(behaviour: DuplicateClientOrderId) -> tuple[SimExchange, RestClient]:
        config = SimConfig(
            verify_auth=False, tick_interval_s=None, seed=3, duplicate_client_order_id=behaviour
        )
        sim = SimExchange(config, clock=venue_clock).start()
        client = RestClient(
            base_url=sim.rest_base_url,
            signer=JwtSigner(credentials, clock=venue_clock),
            limiter=VenueRateLimiter(clock=venue_clock, wait=waits),
            retry=RETRY,
            rng=random.Random(2),
            timeout_s=30.0,  # one call's deadline: the whole retry schedule fits in it
            wait=waits,
        )
        opened.append((sim, client))
        return sim, client

    yield start
    for sim, client in opened:
        client.close()
        sim.stop()


def _market_buy(coid: str) -> OrderRequest:
    return OrderRequest(
        client_order_id=coid,
        product_id="BTC-USD",
        side=OrderSide.BUY,
        configuration=MarketIoc(quote_size=Decimal(100)),
    )


def _orders_with(client: RestClient, coid: str) -> list[str]:
    return [o.order_id for o in client.list_orders() if o.client_order_id == coid]


@pytest.mark.parametrize("behaviour", BEHAVIOURS)
def test_creating_an_order_again_reports_the_existing_one(
    connect: Connect, behaviour: DuplicateClientOrderId
) -> None:
    _, client = connect(behaviour)
    first = client.create_order(_market_buy("dup-again"))

    again = client.create_order(_market_buy("dup-again"))

    assert again == first
    assert _orders_with(client, "dup-again") == [first.order_id]


@pytest.mark.parametrize("behaviour", BEHAVIOURS)
def test_a_resend_after_a_lost_answer_reports_the_one_existing_order(
    connect: Connect, behaviour: DuplicateClientOrderId, waits: FakeWait
) -> None:
    sim, client = connect(behaviour)
    sim.faults.delay_order_visibility(0.5)  # the lookup after the lost answer sees nothing
    sim.faults.lose_order_ack(1)

    created = client.create_order(_market_buy("dup-lost"))

    assert waits.waits == [1.0]  # one resend, after the lookup found nothing
    assert created.client_order_id == "dup-lost"
    assert _orders_with(client, "dup-lost") == [created.order_id]
    assert client.get_order(created.order_id).status == "FILLED"


def test_a_refused_duplicate_the_list_does_not_show_yet_is_an_unknown_outcome(
    connect: Connect, venue_clock: FakeClock
) -> None:
    sim, client = connect(DuplicateClientOrderId.REJECT)
    sim.faults.delay_order_visibility(30.0)  # hidden past the resend and its lookup
    sim.faults.lose_order_ack(1)

    with pytest.raises(OrderOutcomeUnknownError) as caught:
        client.create_order(_market_buy("dup-hidden"))

    assert caught.value.client_order_id == "dup-hidden"
    assert "DUPLICATE_CLIENT_ORDER_ID" in str(caught.value)
    # Reconciliation looks again once the venue lists it: the one order is there.
    venue_clock.advance(30.0)
    found = client.find_order("dup-hidden", product_id="BTC-USD")
    assert found is not None
    assert _orders_with(client, "dup-hidden") == [found.order_id]


def test_a_refused_duplicate_whose_lookup_fails_is_an_unknown_outcome(connect: Connect) -> None:
    sim, client = connect(DuplicateClientOrderId.REJECT)
    client.create_order(_market_buy("dup-unread"))
    sim.faults.http_error(503, count=RETRY.max_attempts, path="/orders/historical/batch")

    with pytest.raises(OrderOutcomeUnknownError) as caught:
        client.create_order(_market_buy("dup-unread"))

    assert caught.value.client_order_id == "dup-unread"
    assert len(_orders_with(client, "dup-unread")) == 1
