"""A reused client_order_id: the sim answers with the existing order or refuses the duplicate,
as set by ``sim.duplicate_client_order_id`` (or switched by a fault), and never makes a
second order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests

from perpsbot.sim import DuplicateClientOrderId, SimExchange
from tests.sim.conftest import Api

BIP = "BIP-20DEC30-CDE"


def _api(sim: SimExchange, http: requests.Session) -> Api:
    return Api(http, sim.rest_base_url)


def _buy(api: Api, coid: str, size: str = "0.01") -> dict[str, Any]:
    return api.order(coid, "BTC-USD", "BUY", market_market_ioc={"base_size": size})


def _orders(api: Api) -> list[dict[str, Any]]:
    return list(api.get("/orders/historical/batch").json()["orders"])


def test_reject_answers_a_reused_id_with_coinbases_failure_and_makes_no_order(
    make_sim: Callable[..., SimExchange], http: requests.Session
) -> None:
    api = _api(make_sim(duplicate_client_order_id="reject"), http)
    first = _buy(api, "twice")

    second = _buy(api, "twice", size="0.5")

    assert first["success"] is True
    assert second["success"] is False
    error = second["error_response"]
    assert error["new_order_failure_reason"] == "DUPLICATE_CLIENT_ORDER_ID"
    assert error["error"] == "UNKNOWN_FAILURE_REASON"  # as in Coinbase's recorded failures
    assert "'twice'" in error["message"]
    orders = _orders(api)
    assert [(o["client_order_id"], o["filled_size"]) for o in orders] == [("twice", "0.01")]


def test_a_fault_switches_the_answer_and_clear_restores_the_configured_one(
    sim: SimExchange, http: requests.Session
) -> None:
    api = _api(sim, http)
    assert sim.config.duplicate_client_order_id is DuplicateClientOrderId.RETURN_EXISTING
    first = _buy(api, "again")
    http.post(
        sim.control_url + "/faults",
        json={"fault": "duplicate_client_order_id", "behaviour": "reject"},
        timeout=5,
    ).raise_for_status()

    refused = _buy(api, "again")
    sim.faults.clear()
    returned = _buy(api, "again")

    assert refused["error_response"]["new_order_failure_reason"] == "DUPLICATE_CLIENT_ORDER_ID"
    assert returned == first
    assert len(_orders(api)) == 1
    assert "duplicate_client_order_id" in [r.kind for r in sim.faults.log]


@pytest.mark.parametrize("behaviour", list(DuplicateClientOrderId))
def test_a_reused_close_position_id_is_a_duplicate_even_once_the_position_is_gone(
    make_sim: Callable[..., SimExchange],
    http: requests.Session,
    behaviour: DuplicateClientOrderId,
) -> None:
    api = _api(make_sim(duplicate_client_order_id=behaviour), http)
    api.order("open", BIP, "BUY", market_market_ioc={"base_size": "2"})
    close = {"client_order_id": "close", "product_id": BIP}
    first = api.post("/orders/close_position", close).json()

    again = api.post("/orders/close_position", close).json()

    assert first["success"] is True
    if behaviour is DuplicateClientOrderId.REJECT:
        assert again["error_response"]["new_order_failure_reason"] == "DUPLICATE_CLIENT_ORDER_ID"
    else:
        assert again == first
    assert len(_orders(api)) == 2
