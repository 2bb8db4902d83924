"""An exchange built to forget settled orders (a backtest's) keeps its memory flat: an order
settled longer ago than its horizon is no longer found, nor are its fills, while the
transaction summary still counts them and open orders stay however old."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from perpsbot.clock import FakeClock
from perpsbot.errors import InvalidConfigError
from perpsbot.sim import SimConfig, SimExchange
from tests.sim.conftest import Api

_HOUR_S = 3600.0


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def _volume_and_fees(api: Api) -> tuple[float, float]:
    summary = api.get("/transaction_summary").json()
    return summary["total_volume"], summary["total_fees"]


def _three_hours_after_a_fill(
    clock: FakeClock, session: requests.Session, **exchange: Any
) -> dict[str, Any]:
    """A filled market order and a resting limit order, then three hours and a minute of
    the exchange's time: what it still shows of them."""
    config = SimConfig(verify_auth=False, tick_interval_s=None, seed=7)
    with SimExchange(config, clock=clock, websockets=False, **exchange) as sim:
        api = Api(session, sim.rest_base_url)
        filled = api.order("c-1", "BTC-USD", "BUY", market_market_ioc={"base_size": "0.01"})
        resting = api.order(
            "c-2", "BTC-USD", "BUY", limit_limit_gtc={"base_size": "0.01", "limit_price": "1000"}
        )
        summary_before = _volume_and_fees(api)
        sim.step()  # the exchange looks at its orders as its markets move
        clock.advance(3 * _HOUR_S + 60)
        sim.step()
        filled_id = filled["success_response"]["order_id"]
        resting_id = resting["success_response"]["order_id"]
        return {
            "filled": api.get(f"/orders/historical/{filled_id}").status_code,
            "resting": api.get_order(resting_id)["status"],
            "fills": len(api.get("/orders/historical/fills").json()["fills"]),
            "summary unchanged": _volume_and_fees(api) == summary_before,
        }


def test_an_exchange_forgets_an_order_settled_longer_ago_than_its_horizon_and_its_fills(
    clock: FakeClock, session: requests.Session
) -> None:
    seen = _three_hours_after_a_fill(clock, session, forget_settled_after_s=2 * _HOUR_S)

    assert seen == {"filled": 404, "resting": "OPEN", "fills": 0, "summary unchanged": True}


def test_an_exchange_keeps_every_order_and_fill_by_default(
    clock: FakeClock, session: requests.Session
) -> None:
    seen = _three_hours_after_a_fill(clock, session)

    assert seen == {"filled": 200, "resting": "OPEN", "fills": 1, "summary unchanged": True}


def test_an_exchange_forgets_no_order_within_its_horizon(
    clock: FakeClock, session: requests.Session
) -> None:
    seen = _three_hours_after_a_fill(clock, session, forget_settled_after_s=4 * _HOUR_S)

    assert seen["filled"] == 200
    assert seen["fills"] == 1


def test_an_exchange_that_keeps_its_state_must_keep_every_order(tmp_path: Any) -> None:
    with pytest.raises(InvalidConfigError, match="must keep every order and fill, found"):
        SimExchange(SimConfig(verify_auth=False), state_dir=tmp_path, forget_settled_after_s=60)
