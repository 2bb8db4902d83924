"""Funding of perp-style futures through the REST API: accrued on the hour into the position's
unrealized PnL, settled into the futures cash at 04:00 and 16:00 US Eastern, or at a close."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from perpsbot.clock import FakeClock
from perpsbot.sim import SimExchange
from tests.sim.conftest import Api, accrued_funding

BIP = "BIP-20DEC30-CDE"
CONTRACT = Decimal("0.01")
START = datetime(2026, 3, 4, 18, 30, tzinfo=UTC)  # a Wednesday, 13:30 EST


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(wall_start_ns=int(START.timestamp()) * 10**9)


def _at(clock: FakeClock, hhmmss: str) -> None:
    """Move the clock forward to ``hhmmss`` UTC of the start's day."""
    hour, minute, second = map(int, hhmmss.split(":"))
    target = START.replace(hour=hour, minute=minute, second=second)
    clock.advance((int(target.timestamp()) * 10**9 - clock.time_ns()) / 1e9)


def _order(api: Api, cid: str, side: str, contracts: int) -> dict[str, Any]:
    reply = api.order(cid, BIP, side, market_market_ioc={"base_size": str(contracts)})
    return api.get_order(reply["success_response"]["order_id"])


def _position(api: Api) -> dict[str, Any]:
    (position,) = api.get("/cfm/positions").json()["positions"]
    return dict(position)


def _summary(api: Api) -> dict[str, Decimal]:
    body = api.get("/cfm/balance_summary").json()["balance_summary"]
    return {k: Decimal(v["value"]) for k, v in body.items() if isinstance(v, dict) and "value" in v}


def _mark(api: Api) -> Decimal:
    return Decimal(api.get(f"/products/{BIP}").json()["mid_market_price"])


def _one_hour(contracts: int, mark: Decimal, rate: str) -> Decimal:
    """What ``contracts`` (negative: a short) accrue in one hour: longs pay a positive rate."""
    return -(contracts * CONTRACT * mark * Decimal(rate)).quantize(Decimal("0.01"))


def test_a_long_accrues_funding_on_the_hour_and_not_a_second_before(
    sim: SimExchange, api: Api, clock: FakeClock
) -> None:
    sim.faults.funding_rate(BIP, "0.0001")
    _order(api, "f-1", "BUY", 10)
    cash = _summary(api)["cfm_usd_balance"]

    _at(clock, "18:59:59")
    assert accrued_funding(_position(api), "0.01") == 0
    details = api.get(f"/products/{BIP}").json()["future_product_details"]
    assert (details["funding_time"], details["funding_rate"]) == ("2026-03-04T19:00:00Z", "0.0001")

    _at(clock, "19:00:00")
    mark = _mark(api)  # the sim does not step: the mark funding was charged at
    position, summary = _position(api), _summary(api)
    assert accrued_funding(position, "0.01") == _one_hour(10, mark, "0.0001") < 0
    assert summary["unrealized_pnl"] == Decimal(position["unrealized_pnl"])  # the account's too
    assert summary["cfm_usd_balance"] == cash  # accrued, not settled
    details = api.get(f"/products/{BIP}").json()["future_product_details"]
    assert details["funding_time"] == "2026-03-04T20:00:00Z"


def test_a_short_receives_funding_while_the_rate_is_positive(
    sim: SimExchange, api: Api, clock: FakeClock
) -> None:
    sim.faults.funding_rate(BIP, "0.0002")
    _order(api, "f-1", "SELL", 4)

    _at(clock, "19:00:00")

    assert accrued_funding(_position(api), "0.01") == _one_hour(-4, _mark(api), "0.0002") > 0


def test_the_settlement_at_16_eastern_moves_what_accrued_into_the_futures_cash(
    sim: SimExchange, api: Api, clock: FakeClock
) -> None:
    _order(api, "f-1", "BUY", 10)
    sim.faults.funding_rate(BIP, "0.0001")
    _at(clock, "19:00:00")
    sim.faults.funding_rate(BIP, "0.0003")  # the sim moves the rate after each hour: pin it
    _at(clock, "20:00:00")
    accrued = accrued_funding(_position(api), "0.01")
    assert accrued == _one_hour(10, _mark(api), "0.0001") + _one_hour(10, _mark(api), "0.0003")
    sim.faults.funding_rate(BIP, "0.0002")
    _at(clock, "20:59:59")
    cash = _summary(api)["cfm_usd_balance"]

    _at(clock, "21:00:00")  # 16:00 EST: the settlement, then this hour's accrual

    assert _summary(api)["cfm_usd_balance"] == cash + accrued
    assert accrued_funding(_position(api), "0.01") == _one_hour(10, _mark(api), "0.0002")


def test_closing_a_position_takes_its_accrued_funding_into_the_cash(
    sim: SimExchange, api: Api, clock: FakeClock
) -> None:
    _order(api, "f-1", "BUY", 5)
    sim.faults.funding_rate(BIP, "0.0004")
    _at(clock, "19:00:00")
    accrued = accrued_funding(_position(api), "0.01")
    before = _summary(api)

    sold = _order(api, "f-2", "SELL", 5)

    after = _summary(api)
    realized = after["daily_realized_pnl"] - before["daily_realized_pnl"]
    fee = Decimal(sold["total_fees"])
    assert accrued < 0
    assert api.get("/cfm/positions").json()["positions"] == []
    assert after["unrealized_pnl"] == 0
    assert after["cfm_usd_balance"] == before["cfm_usd_balance"] + realized - fee + accrued
