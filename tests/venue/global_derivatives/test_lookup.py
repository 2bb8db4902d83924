"""Looking an order up by label against the simulated gateway: found after a lost answer,
duplicates told apart, absence proven only past the deadline and after two clean passes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from perpsbot.clock import FakeClock
from perpsbot.errors import OrderOutcomeUnknownError
from perpsbot.sim.gateway import SimGlobalGateway
from perpsbot.venue.global_derivatives import (
    Finding,
    GlobalDerivativesClient,
    LabelLookup,
    RpcHttp,
    look_up_label,
)
from tests.venue.global_derivatives.conftest import BTC

GRACE_MS = 5_000


@pytest.fixture
def client(http: RpcHttp) -> GlobalDerivativesClient:
    return GlobalDerivativesClient(http=http)


def _look(
    client: GlobalDerivativesClient,
    label: str,
    *,
    deadline_ms: int | None,
    sent_at_ms: int | None = None,
    clean_since_ms: int | None = None,
) -> LabelLookup:
    return look_up_label(
        client,
        instrument=BTC,
        currency="BTC",
        label=label,
        sent_at_ms=sent_at_ms if sent_at_ms is not None else client.get_time_ms(),
        deadline_ms=deadline_ms,
        clean_since_ms=clean_since_ms,
        grace_ms=GRACE_MS,
    )


def test_an_order_whose_answer_was_lost_is_found_by_its_label(
    client: GlobalDerivativesClient, gateway: SimGlobalGateway
) -> None:
    gateway.faults.lose_answers()
    with pytest.raises(OrderOutcomeUnknownError):
        client.place("buy", BTC, Decimal(1), label="pb-lost", order_type="market")
    found = _look(client, "pb-lost", deadline_ms=None)
    assert found.finding is Finding.FOUND
    assert found.ours is not None
    assert found.ours.order_state == "filled"
    assert [t.order_id for t in found.trades] == [found.ours.order_id]


def test_an_unfilled_order_cancelled_after_a_lost_answer_is_found_in_the_history(
    client: GlobalDerivativesClient, gateway: SimGlobalGateway, sim_clock: FakeClock
) -> None:
    bid = client.ticker(BTC).best_bid_price
    assert bid is not None
    sent_ms = client.get_time_ms()
    gateway.faults.lose_answers()
    with pytest.raises(OrderOutcomeUnknownError):
        client.place(
            "buy",
            BTC,
            Decimal(1),
            label="pb-ioc",
            price=bid - 500,
            time_in_force="immediate_or_cancel",
        )
    sim_clock.advance(31 * 60)  # past the recent window: only the historical lists have it
    found = _look(client, "pb-ioc", sent_at_ms=sent_ms, deadline_ms=None)
    assert found.finding is Finding.FOUND
    assert [o.order_state for o in found.orders] == ["cancelled"]


def test_two_orders_with_one_label_are_found_and_the_earliest_is_ours(
    client: GlobalDerivativesClient, sim_clock: FakeClock
) -> None:
    first = client.place("buy", BTC, Decimal(1), label="pb-dup", order_type="market").order
    sim_clock.advance(1)
    second = client.place("buy", BTC, Decimal(1), label="pb-dup", order_type="market").order
    found = _look(client, "pb-dup", deadline_ms=None)
    assert found.ours is not None
    assert found.ours.order_id == first.order_id
    assert [o.order_id for o in found.foreign] == [second.order_id]


def test_an_order_never_placed_is_proven_absent_only_past_its_deadline_and_two_clean_passes(
    client: GlobalDerivativesClient, sim_clock: FakeClock
) -> None:
    sent_ms = client.get_time_ms()
    deadline_ms = sent_ms + 1_000
    sim_clock.advance(2)  # the request reaches matching after its deadline: timed_out
    with pytest.raises(OrderOutcomeUnknownError, match="timed_out"):
        client.place(
            "buy", BTC, Decimal(1), label="pb-none", order_type="market", valid_until_ms=deadline_ms
        )
    early = _look(client, "pb-none", sent_at_ms=sent_ms, deadline_ms=deadline_ms)
    assert (early.finding, early.clean_since_ms) == (Finding.NOT_PROVABLY_ABSENT, None)
    sim_clock.advance(GRACE_MS / 1000)
    first = _look(client, "pb-none", sent_at_ms=sent_ms, deadline_ms=deadline_ms)
    assert first.finding is Finding.NOT_PROVABLY_ABSENT
    assert first.clean_since_ms is not None
    again = _look(
        client,
        "pb-none",
        sent_at_ms=sent_ms,
        deadline_ms=deadline_ms,
        clean_since_ms=first.clean_since_ms,
    )
    assert again.finding is Finding.NOT_PROVABLY_ABSENT  # too soon after the first
    sim_clock.advance(GRACE_MS / 1000)
    proven = _look(
        client,
        "pb-none",
        sent_at_ms=sent_ms,
        deadline_ms=deadline_ms,
        clean_since_ms=first.clean_since_ms,
    )
    assert proven.finding is Finding.ABSENT


def test_without_a_deadline_an_order_is_never_proven_absent(
    client: GlobalDerivativesClient, sim_clock: FakeClock
) -> None:
    first = _look(client, "pb-nodeadline", deadline_ms=None)
    sim_clock.advance(3600)
    later = _look(client, "pb-nodeadline", deadline_ms=None, clean_since_ms=first.venue_now_ms)
    assert later.finding is Finding.NOT_PROVABLY_ABSENT
    assert "no deadline" in later.reason


def test_an_order_hidden_by_a_lag_shorter_than_the_grace_is_found_not_proven_absent(
    client: GlobalDerivativesClient, gateway: SimGlobalGateway, sim_clock: FakeClock
) -> None:
    sent_ms = client.get_time_ms()
    gateway.faults.delay_order_visibility(3.0)
    gateway.faults.lose_answers()
    with pytest.raises(OrderOutcomeUnknownError):
        client.place(
            "buy",
            BTC,
            Decimal(1),
            label="pb-lag",
            order_type="market",
            valid_until_ms=sent_ms + 500,
        )
    hidden = _look(client, "pb-lag", sent_at_ms=sent_ms, deadline_ms=sent_ms + 500)
    assert hidden.finding is Finding.NOT_PROVABLY_ABSENT
    sim_clock.advance(GRACE_MS / 1000 + 0.5)
    found = _look(client, "pb-lag", sent_at_ms=sent_ms, deadline_ms=sent_ms + 500)
    assert found.finding is Finding.FOUND


def test_a_lookup_that_fails_proves_nothing(
    client: GlobalDerivativesClient, gateway: SimGlobalGateway, sim_clock: FakeClock
) -> None:
    sent_ms = client.get_time_ms()
    sim_clock.advance(60)
    gateway.faults.too_many_requests(100)
    failed = _look(client, "pb-x", sent_at_ms=sent_ms, deadline_ms=sent_ms, clean_since_ms=sent_ms)
    assert failed.finding is Finding.NOT_PROVABLY_ABSENT
    assert "lookup failed" in failed.reason
