"""The liquidation buffer on a cross-margined account (the Global Derivatives gateway): an
entry must leave the liquidation price the venue would estimate at least
``min_liquidation_buffer_pct`` of the price away, from the venue's buffer and maintenance
share; the CFM projection of the buffer's share does not apply there."""

from __future__ import annotations

from typing import Any

from perpsbot.actors.risk._check import OrderCheck
from perpsbot.actors.risk._rules import LiquidationBuffer
from perpsbot.config import RiskConfig
from perpsbot.messages import FuturesAccount, IntentPurpose, Side
from tests.actors.trading import D, future, intent

PERP = "BTC_USDC-PERPETUAL"
#: Flat, 10,000 of margin balance, the venue's maintenance half of the initial margin.
CROSS = FuturesAccount(
    buffer=D(10_000), threshold=D(0), maintenance_share=D("0.5"), cross_margin=True
)
RULE = LiquidationBuffer(RiskConfig(max_leverage=D(10), min_liquidation_buffer_pct=D("0.5")))


def _order(side: Side, size: int, **facts: Any) -> OrderCheck:
    fields: dict[str, Any] = {
        "mark": D(50_000),
        "mark_age_s": 1.0,
        "position": D(0),
        # No margin rates (the venue publishes none): the initial margin at 1 / the cap 10x.
        "product": future(PERP, max_leverage=D(10)),
        "equity": D(10_000),
        "futures": CROSS,
    }
    purpose = facts.pop("purpose", IntentPurpose.ENTRY)
    return OrderCheck(
        intent=intent(side, size, symbol=PERP, purpose=purpose), **{**fields, **facts}
    )


def test_an_entry_leaving_the_liquidation_price_within_the_buffer_is_denied_naming_it() -> None:
    # n contracts of 0.01 at 50,000: 500 n of notional, 50 n of initial margin, 25 n of it
    # maintenance. (10,000 - 25 n) / 500 n >= 0.5: at most 36 contracts.
    assert RULE.check(_order(Side.BUY, 36)) is None
    assert RULE.check(_order(Side.BUY, 37)) == (
        "projected liquidation price 25,472.97 is 49.05% from the price 50,000.00 of"
        " BTC_USDC-PERPETUAL, within min_liquidation_buffer_pct 0.5 (cross margin: 9,075.00 of"
        " margin balance over maintenance left after the order adds 1,850.00 of initial"
        " margin at 1 / the leverage cap 10x)"
    )


def test_a_short_is_liquidated_above_the_price_and_denied_the_same_way() -> None:
    assert RULE.check(_order(Side.SELL, 36)) is None
    reason = RULE.check(_order(Side.SELL, 37))
    assert reason is not None
    assert reason.startswith("projected liquidation price 74,527.03 is 49.05% from the price")


def test_a_position_held_counts_against_the_buffer_with_the_entry() -> None:
    # Long 20 already, 9,750 of buffer left: 16 more make 36 contracts, (9,750 - 25 x 16) /
    # 18,000 = 0.519; 18 more make 38, (9,750 - 25 x 18) / 19,000 = 0.489.
    held = FuturesAccount(
        buffer=D(9_750), threshold=D(250), maintenance_share=D("0.5"), cross_margin=True
    )
    assert RULE.check(_order(Side.BUY, 16, position=D(20), futures=held)) is None
    assert RULE.check(_order(Side.BUY, 18, position=D(20), futures=held)) is not None


def test_an_exit_is_never_denied_by_the_liquidation_price() -> None:
    nearly_gone = FuturesAccount(
        buffer=D(10), threshold=D(990), maintenance_share=D("0.5"), cross_margin=True
    )
    order = _order(Side.SELL, 5, position=D(20), futures=nearly_gone, purpose=IntentPurpose.EXIT)
    assert RULE.check(order) is None


def test_the_same_entry_passes_the_share_rule_of_an_account_that_is_not_cross_margined() -> None:
    # The buffer's share of the futures equity after 37: (10,000 - 925) / 10,000 = 0.9075.
    segregated = FuturesAccount(buffer=D(10_000), threshold=D(0), maintenance_share=D("0.5"))
    assert RULE.check(_order(Side.BUY, 37, futures=segregated)) is None
