"""Reconciliation's sweep attributes the venue's fills to the bot's orders, through another
venue's gateway (in memory): ours are carried, foreign ones never, each order looked up once."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from perpsbot.actors.execution._ledger import OrderLedger
from perpsbot.actors.execution._order_states import TrackedOrder
from perpsbot.actors.execution._sweep import (
    FULL_READ_EVERY_NS,
    LATE_LISTING_NS,
    LOOKUPS_PER_PASS,
    FillSweep,
)
from perpsbot.clock import FakeClock
from perpsbot.errors import VenueTransportError
from perpsbot.ids import SequentialIds, client_order_id
from perpsbot.messages import IntentPurpose, OrderStatus, OrderType, Side, Stamper, TimeInForce
from perpsbot.venue.gateway import NewOrder, VenueFill, VenueOrder
from tests.support.fake_gateway import PERPETUAL, FakeGateway


def _filled(gateway: FakeGateway, coid: str) -> None:
    gateway.create_order(
        NewOrder(
            client_order_id=coid, symbol=PERPETUAL.symbol, side=Side.BUY, size=Decimal(2),
            order_type=OrderType.MARKET, time_in_force=TimeInForce.IOC,
        )
    )  # fmt: skip


def _sweep(clock: FakeClock | None = None) -> tuple[FillSweep, OrderLedger]:
    clock = clock or FakeClock()
    stamper = Stamper(clock, SequentialIds())
    published: list[Any] = []
    ledger = OrderLedger(publish=published.append, stamper=stamper, now_ns=clock.time_ns)
    return FillSweep(stamper=stamper, now_ns=clock.time_ns), ledger


def _of_ours(sweep: FillSweep, ledger: OrderLedger, gateway: FakeGateway) -> list[str]:
    fills = gateway.fills_since([PERPETUAL.symbol], sweep.since_ns())
    carried = sweep.of_ours(
        fills, ledger=ledger, gateway=gateway, spec={PERPETUAL.symbol: PERPETUAL}.get,
        issued=frozenset(),  # a venue that deduplicates client ids: our prefix is ours
    )  # fmt: skip
    return [f.client_order_id for f in carried]


def test_fills_of_orders_with_our_prefix_are_carried_and_foreign_ones_never() -> None:
    gateway = FakeGateway(price=Decimal(60_000))
    ours = client_order_id("forgotten")  # an order the ledger does not hold (any more)
    _filled(gateway, ours)
    _filled(gateway, "by-hand")
    sweep, ledger = _sweep()

    assert _of_ours(sweep, ledger, gateway) == [ours]
    assert _of_ours(sweep, ledger, gateway) == [ours]  # until the portfolio dedupes it
    assert sweep.lookups == 2  # each order looked up once: ours and the foreign one


def test_a_failed_lookup_ends_the_passs_lookups_and_the_next_pass_looks_again() -> None:
    class Failing(FakeGateway):
        failing = True

        def get_order(self, venue_order_id: str) -> VenueOrder:
            if self.failing:
                raise VenueTransportError("the venue is slow")
            return super().get_order(venue_order_id)

    gateway = Failing(price=Decimal(60_000))
    for i in range(LOOKUPS_PER_PASS):
        _filled(gateway, client_order_id(f"forgotten-{i}"))
    sweep, ledger = _sweep()

    assert _of_ours(sweep, ledger, gateway) == []
    assert sweep.lookups == 1
    gateway.failing = False
    assert len(_of_ours(sweep, ledger, gateway)) == LOOKUPS_PER_PASS


def test_fills_of_an_unfinished_order_of_the_ledger_are_left_to_its_own_path() -> None:
    gateway = FakeGateway(price=Decimal(60_000))
    coid = client_order_id("in-flight")
    _filled(gateway, coid)
    sweep, ledger = _sweep()
    (venue_order,) = gateway.orders.values()
    ledger.hold(
        TrackedOrder(
            intent_id="in-flight", client_order_id=coid, correlation_id="c",
            symbol=PERPETUAL.symbol, side=Side.BUY, purpose=IntentPurpose.ENTRY,
            order_type=OrderType.MARKET, size=Decimal(2), limit_price=None,
            contract_size=PERPETUAL.contract_size, status=OrderStatus.ACKNOWLEDGED,
            venue_order_id=venue_order.venue_order_id,
        )
    )  # fmt: skip
    assert _of_ours(sweep, ledger, gateway) == []
    assert sweep.lookups == 0


def _fill(fill_id: str, ts_ns: int) -> VenueFill:
    return VenueFill(
        fill_id=fill_id, venue_order_id=f"order-{fill_id}", side=Side.BUY,
        price=Decimal(60_000), size=Decimal(1), fee=Decimal(0), liquidity="TAKER", ts_ns=ts_ns,
    )  # fmt: skip


def test_a_pass_reads_from_an_hour_before_the_last_read_and_the_whole_window_every_six_hours() -> (
    None
):
    clock = FakeClock()
    sweep, _ = _sweep(clock)
    first = sweep.next_read()
    assert first.whole
    assert first.from_ns == sweep.since_ns()
    sweep.window(first, [])

    clock.advance(30 * 60)
    second = sweep.next_read()
    assert not second.whole
    assert second.from_ns == first.at_ns - LATE_LISTING_NS
    sweep.window(second, [])

    clock.advance(FULL_READ_EVERY_NS / 1e9 - 30 * 60)
    assert sweep.next_read().whole


def test_a_partial_read_keeps_the_windows_fills_it_did_not_reach_and_takes_in_late_ones() -> None:
    clock = FakeClock()
    sweep, _ = _sweep(clock)
    now_ns = clock.time_ns()
    whole = sweep.next_read()
    assert sweep.window(whole, [_fill("old", now_ns - 3 * 3600 * 10**9)]) == [
        _fill("old", now_ns - 3 * 3600 * 10**9)
    ]

    clock.advance(30 * 60)
    partial = sweep.next_read()
    late = _fill("late", now_ns - 50 * 60 * 10**9)  # traded before the first read, listed now
    assert partial.from_ns <= late.ts_ns  # type: ignore[operator]
    assert [f.fill_id for f in sweep.window(partial, [late])] == ["late", "old"]
