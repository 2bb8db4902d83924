"""Exposure counts every order in flight, on every symbol: the strategy sends one intent per
symbol from the same sampling cycle, and risk checks them back to back before any fills.

Trading-core review, finding 3 (repro ``test_review_exposure_in_flight.py`` and
``r_exposure_in_flight.py``): on 7408014 the other symbols' exposure counted their filled
positions only, so two entries of 3,500 USD each both passed ``max_exposure_usd`` 5,000.
"""

from __future__ import annotations

from datetime import date

from perpsbot.actors.risk._accounts import Accounts
from perpsbot.actors.risk._check import first_denial
from perpsbot.actors.risk._rules import order_rules
from perpsbot.config import RiskConfig
from perpsbot.messages import (
    OrderDenied,
    PlaceOrder,
    PortfolioValued,
    RiskSnapshot,
    Side,
    TradingState,
)
from perpsbot.runtime.testing import wait_drained
from tests.actors.risk.risk_tree import Tree, tree
from tests.actors.trading import (
    D,
    account,
    all_of_type,
    bot_config,
    intent,
    of_type,
    products,
    reconciled,
    sample,
    sampled,
    spot,
)

__all__ = ["tree"]  # the fixture

LIMITS = {"max_exposure_usd": D(5_000), "max_position_usd": D(10_000), "max_order_usd": D(5_000)}


def test_entries_on_two_symbols_in_one_cycle_together_stay_within_max_exposure(
    tree: Tree,
) -> None:
    tree.start(bot_config(symbols=("BTC-USD", "ETH-USD"), risk=LIMITS))
    tree.tell(products(spot("BTC-USD"), spot("ETH-USD")))
    tree.tell(reconciled())
    tree.tell(account(100_000))
    tree.tell(sampled(1, sample([100], symbol="BTC-USD"), sample([100], symbol="ETH-USD")))
    of_type(tree.published, RiskSnapshot, lambda m: m.cycle == 1 and m.equity == 100_000)
    tree.state(TradingState.ACTIVE)

    btc = intent(Side.BUY, "35", symbol="BTC-USD")  # 3,500 USD
    eth = intent(Side.BUY, "35", symbol="ETH-USD")  # 3,500 USD more: 7,000 in all
    tree.risk.tell(btc)
    tree.risk.tell(eth)
    of_type(tree.executor, PlaceOrder, lambda m: m.intent == btc)
    denied = of_type(tree.published, OrderDenied, lambda m: m.intent_id == eth.intent_id)
    assert denied.rule == "max_exposure_usd"
    assert denied.reason == (
        "exposure 7,000.00 USD exceeds max_exposure_usd 5,000 (ETH-USD 3,500.00 USD after this"
        " order)"
    )
    fits = intent(Side.BUY, "15", symbol="ETH-USD")  # 1,500 USD: 5,000 in all, the limit
    tree.risk.tell(fits)
    of_type(tree.executor, PlaceOrder, lambda m: m.intent == fits)
    wait_drained(tree.risk)
    placed = all_of_type(tree.executor, PlaceOrder)
    assert [p.intent for p in placed] == [btc, fits]
    assert sum(p.intent.size * p.checked_mark for p in placed) == 5_000


def test_the_second_symbols_check_sees_the_first_symbols_order_in_flight() -> None:
    # The pure scenario: 100,000 USD of equity, BTC-USD at 70,000 and ETH-USD at 3,500, an
    # entry of 3,500 USD on each in the same cycle.
    risk = RiskConfig(**LIMITS)
    rules = order_rules(risk)
    accounts = Accounts()
    accounts.roll_day(date(2026, 1, 1))
    accounts.portfolio_valued(
        PortfolioValued(
            message_id="v", ts_created_ns=0, cycle=1, equity=D(100_000), realized_pnl=D(0),
            unrealized_pnl=D(0), daily_pnl=D(0), exposure=D(0), positions=(),
        )
    )  # fmt: skip
    accounts.products = {s: spot(s) for s in ("BTC-USD", "ETH-USD")}
    for symbol, price in (("BTC-USD", 70_000), ("ETH-USD", 3_500)):
        accounts.sampled(sample([price], symbol=symbol, age_s=0.1), 10**9)

    def check(size: str, symbol: str) -> tuple[D, str | None]:
        order = accounts.order_check(
            intent(Side.BUY, size, symbol=symbol),
            state=TradingState.ACTIVE, reasons=(), now_mono_ns=10**9, now_ns=0,
        )  # fmt: skip
        denial = first_denial(rules, order)
        if denial is None:
            accounts.allowed(order, 10**9)  # what the risk actor does with an allowed intent
        return order.other_exposure, None if denial is None else denial.rule

    assert check("0.05", "BTC-USD") == (0, None)
    assert check("1", "ETH-USD") == (3_500, "max_exposure_usd")
    assert check("0.4", "ETH-USD") == (3_500, None)  # 1,400 USD more fits
