from __future__ import annotations

import math
from decimal import Decimal

import pytest

from perpsbot.backtest.floor import floor
from perpsbot.config import BotConfig, load_config
from perpsbot.errors import BacktestInputError
from perpsbot.messages import IntentPurpose, ProductSpec, Side
from perpsbot.venue.records import Candle

D = Decimal
START_S = 1_767_225_600  # 2026-01-01T00:00:00Z


def _future(symbol: str) -> ProductSpec:
    return ProductSpec(
        symbol=symbol, is_future=True, contract_size=D("0.01"), base_increment=D(1),
        price_increment=D("0.01"), base_min_size=D(1), min_notional=None, max_leverage=D(10),
    )  # fmt: skip


def _waves(base: int, phase: float, bars: int = 600) -> list[Candle]:
    """One-minute candles whose close swings 5% around ``base``, a period of ~2 hours."""
    closes = [D(str(round(base * (1 + 0.05 * math.sin(i / 20 + phase)), 2))) for i in range(bars)]
    return [
        Candle(start_s=START_S + 60 * i, open=c, high=c, low=c, close=c, volume=D(1))
        for i, c in enumerate(closes)
    ]


CANDLES = {"BIP-20DEC30-CDE": _waves(100_000, 0.0), "ETP-20DEC30-CDE": _waves(3_000, 1.0)}
PRODUCTS = {symbol: _future(symbol) for symbol in CANDLES}


def _config(**env: str) -> BotConfig:
    return load_config(profile="dev", env=env)


def test_the_floor_trades_both_ways_on_crosses_and_every_candle_counts() -> None:
    run = floor(CANDLES, _config(), products=PRODUCTS, starting_equity=D(10_000))

    assert run.bars == 1_200
    assert {o.symbol for o in run.orders} == set(CANDLES)
    assert {(o.side, o.purpose) for o in run.orders} == {
        (s, p) for s in Side for p in IntentPurpose
    }
    assert run.round_trips >= 4
    assert all("cross" in o.reason for o in run.orders)
    assert any("reversing after the exit" in o.reason for o in run.orders)  # carried over
    # the first entry: 5% of 10,000 USD x 2 leverage (dev), rounded down to whole contracts
    first = run.orders[0]
    assert first.purpose is IntentPurpose.ENTRY
    assert first.size == int(1_000 / (first.price * D("0.01")))


def test_the_floor_is_deterministic() -> None:
    runs = [floor(CANDLES, _config(), products=PRODUCTS, starting_equity=D(10_000)) for _ in "ab"]

    assert runs[0] == runs[1]


def test_risks_rules_deny_the_entries_the_liquidation_buffer_would_not_cover() -> None:
    free = floor(CANDLES, _config(), products=PRODUCTS, starting_equity=D(10_000))
    limited = floor(
        CANDLES,
        _config(PERPSBOT_RISK_MIN_LIQUIDATION_BUFFER_PCT="0.99"),
        products=PRODUCTS,
        starting_equity=D(10_000),
    )

    assert free.denials == 0
    assert limited.denials > 0
    assert limited.orders == ()  # ~1,000 USD at 3x takes 3% of the 10,000 USD buffer


def test_a_symbol_without_a_product_spec_is_refused_by_name() -> None:
    with pytest.raises(BacktestInputError, match=r"missing \['ETP-20DEC30-CDE'\]"):
        floor(
            CANDLES,
            _config(),
            products={"BIP-20DEC30-CDE": PRODUCTS["BIP-20DEC30-CDE"]},
            starting_equity=D(10_000),
        )
