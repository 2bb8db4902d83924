"""Risk's leverage cap and liquidation buffer from the venue's margin, on the fake clock's wall
time in US Eastern margin windows."""

from __future__ import annotations

from datetime import UTC, datetime

import attrs
import pytest

from perpsbot.clock import FakeClock
from perpsbot.messages import FuturesAccount, MarginRates, RiskSnapshot, Side, TradingState
from tests.actors.risk.risk_tree import Tree, tree
from tests.actors.trading import (
    D,
    account,
    bot_config,
    future,
    intent,
    of_type,
    products,
    reconciled,
    sample,
    sampled,
)

__all__ = ["tree"]  # the fixture
BIP = "BIP-20DEC30-CDE"
RATES = MarginRates(
    intraday_long=D("0.1000185"), intraday_short=D("0.1000008"),
    overnight_long=D("0.245625"), overnight_short=D("0.306375"),
)  # fmt: skip
REPRO_RATES = attrs.evolve(RATES, intraday_long=D("0.10"))  # the review's 10%
UNLIMITED = {
    "max_order_usd": D(1_000_000), "max_position_usd": D(1_000_000),
    "max_exposure_usd": D(1_000_000), "max_mark_age_s": 300.0,
}  # fmt: skip


@pytest.fixture
def clock() -> FakeClock:
    """Wednesday 2026-03-04, 14:59 US Eastern (EST): the intraday margin window's last minute
    before the hour that leads up to the overnight window."""
    return FakeClock(
        wall_start_ns=int(datetime(2026, 3, 4, 19, 59, tzinfo=UTC).timestamp()) * 10**9
    )


def _start(
    tree: Tree, futures: FuturesAccount, *, equity: int, rates: MarginRates = RATES, **risk: object
) -> None:
    tree.start(bot_config(symbols=(BIP,), risk={**UNLIMITED, **risk}))
    tree.tell(products(future(margin_rates=rates, max_leverage=None)))
    tree.tell(reconciled())
    tree.tell(account(equity, futures=futures))
    tree.tell(sampled(1, sample([70_000], symbol=BIP)))
    # Cycle 1's snapshot holds the portfolio's equity; risk has it before any later intent.
    of_type(tree.published, RiskSnapshot, lambda m: m.cycle == 1 and m.equity == equity)
    tree.state(TradingState.ACTIVE)


def test_the_buffer_is_projected_with_the_maintenance_share_the_venue_last_showed(
    tree: Tree,
) -> None:
    # The review's repro through the risk actor: 10,000 USD of futures equity in a 110,000 USD
    # account. The venue showed a threshold of half the initial margin while it held a
    # position; now flat, its reading shows none, and the last one still counts.
    held = FuturesAccount(buffer=D(9_655), threshold=D(345), maintenance_share=D("0.5"))
    _start(
        tree, held, equity=110_000, rates=REPRO_RATES,
        max_leverage=D(10), min_liquidation_buffer_pct=D("0.65"),
    )  # fmt: skip
    tree.tell(account(110_000, futures=FuturesAccount(buffer=D(10_000), threshold=D(0))))
    denial = tree.denied(intent(Side.BUY, 101, symbol=BIP))
    assert denial.rule == "liquidation_buffer"
    assert denial.reason == (
        "projected liquidation buffer 0.6465 is below min_liquidation_buffer_pct 0.65 for"
        " BIP-20DEC30-CDE (the order adds 7,070.00 USD of initial margin at the intraday long"
        " margin rate 0.1, the liquidation threshold 0.50 of it; futures equity 10,000.00 USD)"
    )
    tree.place(intent(Side.BUY, 100, symbol=BIP))  # 0.650 projected: at the limit


def test_the_leverage_cap_follows_the_margin_window_on_the_wall_clock(tree: Tree) -> None:
    flat = FuturesAccount(buffer=D(1_000), threshold=D(0))
    _start(tree, flat, equity=1_000, max_leverage=D(20))
    tree.place(intent(Side.BUY, 5, symbol=BIP))  # 3.5x at 14:59 ET: within 1 / 0.1000185
    tree.clock.advance(60.0)  # 15:00 ET: within the hour before the overnight window
    tree.tell(sampled(2, sample([70_000], symbol=BIP)))
    denial = tree.denied(intent(Side.BUY, 1, symbol=BIP))  # 6 contracts with the 5 in flight
    assert denial.rule == "max_leverage"
    assert denial.reason == (
        "leverage 4.20x (4,200.00 USD on 1,000.00 USD equity) exceeds the cap 4.07x for"
        " BIP-20DEC30-CDE (1 / the overnight long margin rate 0.245625, the stricter within"
        " the hour before the overnight window)"
    )
