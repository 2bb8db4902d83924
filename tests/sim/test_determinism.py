"""One seed gives one market: the same steps and orders give the same prices, books and ids."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

from perpsbot.sim import CATALOGUE, SimExchange, SimProduct
from perpsbot.sim._market import ProductMarket
from perpsbot.sim._wire import quantize_down
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


def _reference_side(
    rng: random.Random, spec: SimProduct, old: dict[Decimal, Decimal], prices: list[Decimal]
) -> dict[Decimal, Decimal]:
    """A side of the book as first written: sizes from ``rng.uniform``."""
    new: dict[Decimal, Decimal] = {}
    for depth, price in enumerate(prices):
        if price <= 0:
            continue
        kept = old.get(price)
        if kept is not None and rng.random() < 0.7:
            new[price] = kept
            continue
        scale = Decimal(repr(round(rng.uniform(0.2, 1.8) * (1 + 0.15 * depth), 6)))
        size = (spec.level_size * scale / spec.base_increment).to_integral_value(
            rounding=ROUND_DOWN
        ) * spec.base_increment
        new[price] = max(size, spec.base_min_size)
    return new


@pytest.mark.parametrize("look_every", [1, 7])
@pytest.mark.parametrize("move", [0.0004, 0.00002])
@pytest.mark.parametrize("product_id", ["BIP-20DEC30-CDE", "ETH-USD"])
def test_a_rebuilt_book_has_the_sizes_rng_uniform_draws_level_by_level(
    product_id: str, move: float, look_every: int
) -> None:
    """Moves of many levels, or of a few (most prices kept, some off the old grid); the book
    looked at after every step, or only now and then (its levels are made when looked at);
    once restored from plain levels."""
    spec = next(p for p in CATALOGUE if p.product_id == product_id)
    market = ProductMarket(spec, levels=12, start_ns=1_767_225_600 * 10**9, seed=3)
    rng, reference_rng = random.Random(11), random.Random(11)
    bids: dict[Decimal, Decimal] = {}
    asks: dict[Decimal, Decimal] = {}
    for step in range(200):
        market.fair = float(spec.start_price) * (1 + move * ((step // 3 * 7) % 11 - 5))
        if step == 100:  # set as a kept state's restore sets them: laid on from plain levels
            market.bids, market.asks = dict(market.bids), dict(market.asks)
        market.rebuild(rng)
        fair = Decimal(repr(market.fair))
        best_bid = quantize_down(fair - spec.level_spacing / 2, spec.price_increment)
        best_ask = best_bid + spec.level_spacing
        bids = _reference_side(
            reference_rng, spec, bids, [best_bid - i * spec.level_spacing for i in range(12)]
        )
        asks = _reference_side(
            reference_rng, spec, asks, [best_ask + i * spec.level_spacing for i in range(12)]
        )
        if step % look_every == 0:
            assert (market.bids, market.asks) == (bids, asks), step
    assert rng.random() == reference_rng.random()  # the same number of draws
