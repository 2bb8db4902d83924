"""A paper account on disk, as ``perpsbot run --profile dev`` leaves one beside its journal."""

from __future__ import annotations

from pathlib import Path

import requests

from perpsbot.sim import SimConfig, SimExchange

PERP = "BIP-20DEC30-CDE"


def paper_account(directory: Path, *, contracts: int = 0, steps: int = 0) -> dict[str, str]:
    """Leave a paper account in ``directory`` (``var/dev/sim`` of a working directory):
    the market ``steps`` ticks on, long ``contracts`` of the perp if any; returns the last
    best bid and ask of the perp as the account keeps them."""
    config = SimConfig(verify_auth=False, tick_interval_s=None, volatility=0.001)
    with SimExchange(config, state_dir=directory) as sim:
        if steps:
            sim.step(steps)
        if contracts:
            body = {
                "client_order_id": "paper-1",
                "product_id": PERP,
                "side": "BUY",
                "order_configuration": {"market_market_ioc": {"base_size": str(contracts)}},
            }
            answer = requests.post(sim.rest_base_url + "/orders", json=body, timeout=10).json()
            assert answer["success"], answer
        books = requests.get(
            sim.rest_base_url + "/best_bid_ask", params={"product_ids": PERP}, timeout=10
        ).json()["pricebooks"]
    (book,) = books
    return {"bid": book["bids"][0]["price"], "ask": book["asks"][0]["price"]}
