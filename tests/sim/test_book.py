"""The synthetic book, laid at every step and made into levels only when looked at: what any
query sees does not depend on when, or whether, anything looked before. Each test runs on an
exchange with its websocket face (whose listener sees every publication) and without it (a
backtest's, where nothing looks but the queries)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest
import requests

from perpsbot.clock import FakeClock
from perpsbot.sim import SimConfig, SimExchange
from tests.sim.conftest import Api

pytestmark = pytest.mark.parametrize("websockets", [True, False], ids=["ws", "no-ws"])


@contextmanager
def _exchange(
    clock: FakeClock, *, websockets: bool, seed: int = 7
) -> Iterator[tuple[SimExchange, Api]]:
    """A started exchange that moves only when stepped, and its API (in this process)."""
    config = SimConfig(verify_auth=False, tick_interval_s=None, seed=seed)
    with (
        SimExchange(config, clock=clock, websockets=websockets) as sim,
        requests.Session() as session,
    ):
        session.mount(sim.rest_base_url, sim.in_process_adapter())
        yield sim, Api(session, sim.rest_base_url)


def _book(api: Api, product_id: str = "BTC-USD", limit: int = 1000) -> dict[str, Any]:
    return dict(api.get("/product_book", product_id=product_id, limit=limit).json()["pricebook"])


def _session(sim: SimExchange, api: Api, *, look_every_step: bool) -> dict[str, Any]:
    """Forty steps with a sweeping market buy at the 10th and a resting buy from the 20th;
    the book looked at only for those orders, or after every step as well."""
    for step in range(1, 41):
        sim.step()
        if look_every_step:
            api.get("/best_bid_ask", product_ids="BTC-USD")
            _book(api)
        if step == 10:
            asks = _book(api)["asks"]
            size = Decimal(asks[0]["size"]) + (Decimal(asks[1]["size"]) / 2).quantize(
                Decimal("1e-8")
            )
            api.order("c-1", "BTC-USD", "BUY", market_market_ioc={"base_size": str(size)})
        if step == 20:
            bid = Decimal(_book(api)["bids"][0]["price"]) - 2
            api.order(
                "c-2",
                "BTC-USD",
                "BUY",
                limit_limit_gtc={"base_size": "0.01", "limit_price": str(bid)},
            )
    return {
        "book": _book(api),
        "eth_book": _book(api, "ETH-USD"),
        "trades": api.get("/products/BTC-USD/ticker", limit=100).json(),
        "fills": api.get("/orders/historical/fills").json()["fills"],
    }


def test_looking_at_the_book_after_every_step_changes_nothing_anyone_sees(
    websockets: bool,
) -> None:
    seen = []
    for look in (False, True):
        with _exchange(FakeClock(), websockets=websockets, seed=5) as (sim, api):
            seen.append(_session(sim, api, look_every_step=look))

    assert seen[0]["fills"], "the market buy filled"
    assert seen[0] == seen[1]


def test_the_top_of_the_book_is_the_best_of_the_whole_book_with_our_orders_on_it(
    websockets: bool,
) -> None:
    with _exchange(FakeClock(), websockets=websockets) as (sim, api):
        sim.step(5)
        bids = _book(api)["bids"]
        inside = Decimal(bids[0]["price"]) + Decimal("0.01")
        on_a_level = Decimal(bids[2]["price"])
        for coid, price, size in (("c-1", inside, "0.01"), ("c-2", on_a_level, "0.02")):
            api.order(
                coid,
                "BTC-USD",
                "BUY",
                limit_limit_gtc={"base_size": size, "limit_price": str(price), "post_only": True},
            )
        tops = [_tops(api)]
        sim.step()
        tops.append(_tops(api))

    first_bids = tops[0]["whole"]["bids"]
    assert first_bids[0] == {"price": str(inside), "size": "0.01"}
    assert first_bids[3]["price"] == str(on_a_level)
    assert Decimal(first_bids[3]["size"]) > Decimal("0.02")  # the level's and ours
    for seen in tops:
        whole = seen["whole"]
        assert seen["top 3"] == {"bids": whole["bids"][:3], "asks": whole["asks"][:3]}
        assert seen["best"] == {"bids": whole["bids"][:1], "asks": whole["asks"][:1]}


def _tops(api: Api) -> dict[str, Any]:
    """The whole book, its best three levels a side, and the best bid and ask, asked apart
    (the top is asked before the whole)."""
    (best,) = api.get("/best_bid_ask", product_ids="BTC-USD").json()["pricebooks"]
    top = _book(api, limit=3)
    whole = _book(api)
    return {
        "best": {"bids": best["bids"], "asks": best["asks"]},
        "top 3": {"bids": top["bids"], "asks": top["asks"]},
        "whole": whole,
    }
