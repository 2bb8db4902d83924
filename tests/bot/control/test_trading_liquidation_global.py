"""On the Global Derivatives venue risk checks the liquidation price an entry leaves, from the
venue's cross-margined account (its margin balance over maintenance): an entry that would
bring the liquidation price within ``min_liquidation_buffer_pct`` of the price is denied,
and one just short of it goes to the venue."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from perpsbot.clock import FakeClock
from perpsbot.config import RiskConfig
from perpsbot.ids import client_order_id
from perpsbot.messages import OrderDenied
from perpsbot.runtime.testing import eventually
from perpsbot.sim import SimConfig, SimExchange
from tests.bot.control.global_tree import MARK, PERP, global_link
from tests.bot.control.trading_tree import TradingBot, trading_bot

#: The liquidation price at least half the price away; every other limit out of the way.
RISK = RiskConfig(
    max_leverage=Decimal(10), min_liquidation_buffer_pct=Decimal("0.5"),
    max_order_usd=Decimal(1_000_000), max_position_usd=Decimal(1_000_000),
    max_exposure_usd=Decimal(1_000_000),
)  # fmt: skip


@pytest.fixture
def bot(tmp_path: Path) -> Iterator[TradingBot]:
    clock = FakeClock()
    config = SimConfig(
        verify_auth=False, tick_interval_s=None, seed=5, balances=(("USD", Decimal(10_000)),)
    )
    with (
        SimExchange(config, clock=clock) as sim,
        global_link(sim, clock) as linked,
        trading_bot(
            sim, tmp_path / "j.sqlite3", clock=clock, symbol=PERP, mark=MARK,
            link=linked.link, risk=RISK,
        ) as bot,
    ):  # fmt: skip
        yield bot


def _denial(bot: TradingBot, intent_id: str) -> OrderDenied | None:
    with bot.reader() as reader:
        return next((d for d in reader.denials() if d.intent_id == intent_id), None)


def test_an_entry_leaving_the_liquidation_price_within_the_buffer_is_denied_on_the_global_venue(
    bot: TradingBot,
) -> None:
    # Flat on 10,000 of margin balance, the initial margin at 1 / the instrument's
    # max_leverage 3 (below max_leverage 10), all of it maintenance until the venue shows its
    # share: 18 contracts of 0.01 at 68,930 (12,407.40) leave 10,000 - 4,135.80 = 5,864.20
    # over maintenance, 47% of the notional: denied.
    denied = bot.intent(size="18")
    found = eventually(lambda: _denial(bot, denied.intent_id), timeout_s=10, what="a denial")
    assert found.rule == "liquidation_buffer"
    assert found.reason.startswith(
        "projected liquidation price 36,351.11 is 47.26% from the price 68,930.00 of"
        " BTC_USDC-PERPETUAL, within min_liquidation_buffer_pct 0.5 (cross margin:"
    )

    # 17 contracts (11,718.10) leave 6,093.97, 52% of the notional: sent.
    allowed = client_order_id(bot.intent(size="17").intent_id)
    eventually(
        lambda: any(r["client_order_id"] == allowed for r in bot.ops().orders()),
        timeout_s=10, what="the order sent to the venue",
    )  # fmt: skip
