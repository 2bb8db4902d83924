"""Portfolios and fees: ``/portfolios``, ``/portfolios/{uuid}`` and ``/transaction_summary``."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.sim.conftest import Api

BIP = "BIP-20DEC30-CDE"


def _portfolio_uuid(api: Api) -> str:
    (portfolio,) = api.get("/portfolios").json()["portfolios"]
    return str(portfolio["uuid"])


def test_the_portfolio_breakdown_shows_balances_holdings_and_the_open_future(
    api: Api,
) -> None:
    api.order("c-1", BIP, "BUY", market_market_ioc={"base_size": "2"})
    api.order("c-2", "ETH-USD", "BUY", market_market_ioc={"quote_size": "100"})
    (position,) = api.get("/cfm/positions").json()["positions"]

    response = api.get(f"/portfolios/{_portfolio_uuid(api)}")

    assert response.status_code == 200
    breakdown = response.json()["breakdown"]
    assert breakdown["portfolio"]["type"] == "DEFAULT"
    (future,) = breakdown["futures_positions"]
    assert (future["product_id"], future["side"], future["amount"]) == (
        BIP,
        "FUTURES_POSITION_SIDE_LONG",
        position["number_of_contracts"],
    )
    assert future["avg_entry_price"] == position["avg_entry_price"]
    assets = {p["asset"]: p for p in breakdown["spot_positions"]}
    assert assets["ETH"]["total_balance_crypto"] > 0
    assert assets["USD"]["is_cash"] is True
    balances = breakdown["portfolio_balances"]
    assert balances["total_balance"]["currency"] == "USD"
    assert Decimal(balances["total_crypto_balance"]["value"]) > 0


def test_an_unknown_portfolio_is_not_found(api: Api) -> None:
    response = api.get("/portfolios/00000000-0000-4000-8000-000000000000")

    assert response.status_code == 404
    assert response.json()["error"] == "NOT_FOUND"


def test_transaction_summary_sends_volume_and_fees_as_numbers_and_filters_by_venue(
    api: Api,
) -> None:
    api.order("c-1", BIP, "BUY", market_market_ioc={"base_size": "1"})
    (fill,) = api.get("/orders/historical/fills").json()["fills"]

    everything = api.get("/transaction_summary").json()
    spot = api.get("/transaction_summary", product_type="SPOT").json()
    fcm = api.get("/transaction_summary", product_venue="FCM").json()

    assert everything["total_fees"] == float(fill["commission"])
    assert isinstance(everything["total_volume"], float)
    assert (spot["total_volume"], spot["total_fees"]) == (0.0, 0.0)
    assert fcm["total_fees"] == everything["total_fees"]
    assert set(everything["fee_tier"]) >= {
        "pricing_tier",
        "usd_from",
        "usd_to",
        "maker_fee_rate",
        "taker_fee_rate",
    }


@pytest.mark.parametrize(
    ("param", "value"),
    [("product_type", "PERP"), ("contract_expiry_type", "SOON"), ("product_venue", "NYSE")],
)
def test_transaction_summary_refuses_an_unknown_filter(api: Api, param: str, value: str) -> None:
    response = api.get("/transaction_summary", **{param: value})

    assert response.status_code == 400
    assert param in response.json()["message"]
