"""One seed gives one market: the same steps and orders give the same prices, books and ids."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from perpsbot.sim import SimExchange
from tests.sim.conftest import Api

SIM_SOURCES = Path(__file__).parents[2] / "src" / "perpsbot" / "sim"


def _run(make_sim: Callable[..., SimExchange], http: requests.Session, seed: int) -> dict[str, Any]:
    sim = make_sim(seed=seed)
    api = Api(http, sim.rest_base_url)
    sim.step(25)
    reply = api.order("c-1", "BIP-20DEC30-CDE", "BUY", market_market_ioc={"base_size": "7"})
    sim.step(25)
    return {
        "book": api.get("/product_book", product_id="ETH-USD").json()["pricebook"]["bids"],
        "trades": api.get("/products/BTC-USD/ticker", limit=20).json()["trades"],
        "order": api.get_order(reply["success_response"]["order_id"]),
        "fills": api.get("/orders/historical/fills").json()["fills"],
        "candles": api.get(
            "/products/BTC-USD/candles",
            start="1767220000",
            end="1767225600",
            granularity="ONE_HOUR",
        ).json(),
    }


def test_the_same_seed_gives_the_same_market_and_ids(
    make_sim: Callable[..., SimExchange], http: requests.Session
) -> None:
    first = _run(make_sim, http, seed=11)
    second = _run(make_sim, http, seed=11)

    assert first == second


def test_another_seed_gives_another_market(
    make_sim: Callable[..., SimExchange], http: requests.Session
) -> None:
    first = _run(make_sim, http, seed=11)
    second = _run(make_sim, http, seed=12)

    assert first["book"] != second["book"]
    assert first["order"]["order_id"] != second["order"]["order_id"]


def test_the_sim_reads_time_and_randomness_only_through_the_seams() -> None:
    forbidden = re.compile(
        r"time\.time\(|datetime\.now\(|uuid4\(|time\.monotonic\(|random\.random\("
    )

    offenders = [
        f"{path.name}:{n}"
        for path in sorted(SIM_SOURCES.glob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if forbidden.search(line)
    ]

    assert offenders == []
