"""The simulated exchange's margin by the venue's calendar: the intraday rate on weekdays from
08:00 to 16:00 US Eastern, the overnight rate at every other time, in the balance summary, its
two window measures, the current margin window and the leverage an order may ask for."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from perpsbot.clock import FakeClock
from perpsbot.sim import SimExchange
from tests.sim.conftest import Api

BIP = "BIP-20DEC30-CDE"
INTRADAY_LONG, OVERNIGHT_LONG = Decimal("0.1000185"), Decimal("0.245625")
START = datetime(2026, 3, 6, 20, 0, tzinfo=UTC)  # Friday 15:00 EST


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(wall_start_ns=int(START.timestamp()) * 10**9)


def _to(clock: FakeClock, when: str) -> None:
    """Move the clock forward to ``when`` (``"2026-03-06 20:59:59"``, UTC)."""
    target = datetime.fromisoformat(when).replace(tzinfo=UTC)
    clock.advance((int(target.timestamp()) * 10**9 - clock.time_ns()) / 1e9)


def _summary(api: Api) -> dict[str, Any]:
    return dict(api.get("/cfm/balance_summary").json()["balance_summary"])


def _window(api: Api) -> dict[str, Any]:
    return dict(api.get("/cfm/intraday/current_margin_window").json()["margin_window"])


def _notional(api: Api) -> Decimal:
    (position,) = api.get("/cfm/positions").json()["positions"]
    contracts = Decimal(position["number_of_contracts"])
    return contracts * Decimal("0.01") * Decimal(position["current_price"])


def _initial(summary: dict[str, Any]) -> Decimal:
    return Decimal(summary["initial_margin"]["value"])


def _cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


def test_the_summary_charges_the_intraday_rate_until_16_eastern_and_the_overnight_rate_from_it(
    api: Api, clock: FakeClock
) -> None:
    api.order("m-1", BIP, "BUY", market_market_ioc={"base_size": "10"})

    _to(clock, "2026-03-06 20:59:59")  # Friday 15:59:59 EST
    intraday = _summary(api)
    assert _initial(intraday) == _cents(_notional(api) * INTRADAY_LONG)
    assert _window(api) == {
        "margin_window_type": "FCM_MARGIN_WINDOW_TYPE_INTRADAY",
        "end_time": "2026-03-06T21:00:00Z",
    }

    _to(clock, "2026-03-06 21:00:00")  # 16:00 EST: overnight, until Monday 08:00
    overnight = _summary(api)
    assert _initial(overnight) == _cents(_notional(api) * OVERNIGHT_LONG)
    assert Decimal(overnight["available_margin"]["value"]) < Decimal(
        intraday["available_margin"]["value"]
    )
    assert _window(api) == {
        "margin_window_type": "FCM_MARGIN_WINDOW_TYPE_OVERNIGHT",
        "end_time": "2026-03-09T12:00:00Z",  # Monday 08:00 EDT: daylight saving began Sunday
    }
    measures = {
        key: Decimal(overnight[f"{key}_margin_window_measure"]["initial_margin"])
        for key in ("intraday", "overnight")
    }  # each window's own figure, whichever is in effect
    assert measures == {
        "intraday": _cents(_notional(api) * INTRADAY_LONG),
        "overnight": _initial(overnight),
    }


def test_the_weekend_is_overnight_and_monday_08_eastern_is_intraday_after_daylight_saving_began(
    api: Api, clock: FakeClock
) -> None:
    api.order("m-1", BIP, "BUY", market_market_ioc={"base_size": "10"})

    _to(clock, "2026-03-07 17:00:00")  # Saturday noon EST
    assert _initial(_summary(api)) == _cents(_notional(api) * OVERNIGHT_LONG)
    _to(clock, "2026-03-09 11:59:59")  # Monday 07:59:59 EDT
    assert _window(api)["margin_window_type"] == "FCM_MARGIN_WINDOW_TYPE_OVERNIGHT"
    assert _initial(_summary(api)) == _cents(_notional(api) * OVERNIGHT_LONG)

    _to(clock, "2026-03-09 12:00:00")  # Monday 08:00 EDT

    assert _window(api)["margin_window_type"] == "FCM_MARGIN_WINDOW_TYPE_INTRADAY"
    assert _initial(_summary(api)) == _cents(_notional(api) * INTRADAY_LONG)


def test_an_order_may_ask_for_the_leverage_of_the_window_in_effect(
    sim: SimExchange, api: Api, clock: FakeClock
) -> None:
    def buy(cid: str, leverage: str) -> dict[str, Any]:
        body = {
            "client_order_id": cid, "product_id": BIP, "side": "BUY", "leverage": leverage,
            "order_configuration": {"market_market_ioc": {"base_size": "1"}},
        }  # fmt: skip
        return dict(api.post("/orders", body).json())

    assert buy("l-1", "9")["success"] is True  # 1 / 0.1000185 = 9.998 intraday

    _to(clock, "2026-03-06 21:00:00")
    refused = buy("l-2", "9")

    assert refused["error_response"]["preview_failure_reason"] == "PREVIEW_INVALID_LEVERAGE"
    assert buy("l-3", "4")["success"] is True  # 1 / 0.245625 = 4.07 overnight
