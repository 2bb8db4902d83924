"""The sim on the wall clock, as ``perpsbot sim`` runs it: funding falls on the UTC hour."""

from __future__ import annotations

from decimal import Decimal

import requests
from freezegun import freeze_time

from perpsbot.sim import SimConfig, SimExchange
from tests.sim.conftest import Api, accrued_funding

BIP = "BIP-20DEC30-CDE"


def _funding_time(api: Api) -> str:
    return str(api.get(f"/products/{BIP}").json()["future_product_details"]["funding_time"])


def _accrued(api: Api) -> Decimal:
    (position,) = api.get("/cfm/positions").json()["positions"]
    return accrued_funding(position, "0.01")


def test_funding_accrues_on_the_utc_hour_of_the_wall_clock_and_not_before() -> None:
    config = SimConfig(verify_auth=False, tick_interval_s=None, seed=7)
    with (
        freeze_time("2026-03-01 12:59:30", real_asyncio=True) as frozen,
        SimExchange(config) as sim,
        requests.Session() as http,
    ):
        api = Api(http, sim.rest_base_url)
        order = {"market_market_ioc": {"base_size": "10"}}
        api.post("/orders", {"client_order_id": "f-1", "product_id": BIP, "side": "BUY",
                             "order_configuration": order})  # fmt: skip
        assert _funding_time(api) == "2026-03-01T13:00:00Z"

        frozen.move_to("2026-03-01 12:59:59")
        sim.step()
        assert _accrued(api) == 0  # a second early: nothing accrued
        assert _funding_time(api) == "2026-03-01T13:00:00Z"

        frozen.move_to("2026-03-01 13:00:00")
        sim.step()
        assert _accrued(api) < 0  # the long pays at the hour
        assert _funding_time(api) == "2026-03-01T14:00:00Z"
