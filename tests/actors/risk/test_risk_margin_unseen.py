"""The liquidation buffer counts the initial margin the venue's last account read does not
hold yet: what other futures symbols' orders in flight may add (each symbol's worse side, all
of it filled; an exit adds none) on a CFM account as on a cross-margined one, and what fills
booked since that read added, on any symbol (the venue's figures were read before them).

Every figure below is hand-computed. The futures, without margin rates, hold ``1 / 10`` of
their notional as initial margin (the leverage cap 10x), and the venue's maintenance share is
half of it: A is 0.01 of a coin at 50,000 (50 of initial margin a contract, 25 of it
maintenance), B is 0.1 at 2,500 (25 a contract, 12.5 of it maintenance). The futures account
read flat: 10,000 of buffer, no threshold. The CFM share after an order is ``(buffer - 0.5 x
dIM) / 10,000`` and must stay at or above 0.5, with ``dIM`` the initial margin the read does
not hold.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from perpsbot.actors.risk._check import HeldElsewhere, OrderCheck
from perpsbot.actors.risk._rules import LiquidationBuffer
from perpsbot.config import RiskConfig
from perpsbot.messages import (
    FuturesAccount,
    PlaceOrder,
    RiskSnapshot,
    Side,
    TradingState,
    VenuePosition,
)
from tests.actors.risk.risk_tree import Tree, tree
from tests.actors.trading import (
    D,
    account,
    bot_config,
    fill,
    future,
    intent,
    of_type,
    products,
    reconciled,
    sample,
    sampled,
)

__all__ = ["tree"]  # the fixture
A = "BIP-20DEC30-CDE"
B = "ETP-20DEC30-CDE"
FLAT = FuturesAccount(buffer=D(10_000), threshold=D(0), maintenance_share=D("0.5"))
CROSS = FuturesAccount(
    buffer=D(10_000), threshold=D(0), maintenance_share=D("0.5"), cross_margin=True
)
RULE = LiquidationBuffer(RiskConfig(max_leverage=D(10), min_liquidation_buffer_pct=D("0.5")))
PRODUCT_A = future(A, max_leverage=D(10))
PRODUCT_B = future(B, max_leverage=D(10), contract_size=D("0.1"))


def _b(position: int = 0, **facts: Any) -> HeldElsewhere:
    fields: dict[str, Any] = {
        "symbol": B, "product": PRODUCT_B, "position": D(position), "open_buy": D(0),
        "open_sell": D(0), "price": D(2_500), "contract_size": D("0.1"),
    }  # fmt: skip
    return HeldElsewhere(**{**fields, **facts})


def _entry(size: int, *elsewhere: HeldElsewhere, **facts: Any) -> str | None:
    fields: dict[str, Any] = {
        "mark": D(50_000), "mark_age_s": 1.0, "position": D(0), "product": PRODUCT_A,
        "other_exposure": sum((held.notional for held in elsewhere), Decimal(0)),
        "elsewhere": elsewhere, "equity": D(100_000), "futures": FLAT,
    }  # fmt: skip
    return RULE.check(OrderCheck(intent=intent(Side.BUY, size, symbol=A), **{**fields, **facts}))


def test_a_cfm_entry_counts_the_margin_another_futures_orders_in_flight_will_take() -> None:
    # B buys 200 and sells 100 in flight, flat: the worse side is the buy, 200 x 25 = 5,000
    # of initial margin, 2,500 of it maintenance. A's entry of n: (10,000 - 2,500 - 25 n) /
    # 10,000 >= 0.5 up to 100 contracts (without B's orders, up to 200: at 101 the share was
    # (10,000 - 2,525) / 10,000 = 0.7475).
    in_flight = _b(open_buy=D(200), open_sell=D(100))
    assert _entry(101) is None
    assert _entry(100, in_flight) is None  # (10,000 - 2,500 - 2,500) / 10,000 = 0.5
    assert _entry(101, in_flight) == (  # (10,000 - 2,500 - 2,525) / 10,000 = 0.4975
        "projected liquidation buffer 0.4975 is below min_liquidation_buffer_pct 0.5 for"
        " BIP-20DEC30-CDE (the order adds 5,050.00 USD of initial margin at 1 / the leverage"
        " cap 10x (10,050.00 with what the venue's last account read does not hold: fills"
        " booked since, other symbols' orders in flight), the liquidation threshold 0.50 of"
        " it; futures equity 10,000.00 USD)"
    )


def test_a_cfm_entry_counts_no_margin_for_another_futures_exit_in_flight() -> None:
    # B long 200 in the read (7,500 of buffer over 2,500 of threshold), its exit of 200 in
    # flight: an exit releases margin, so A's entry is checked as with B merely held,
    # (7,500 - 25 n) / 10,000 >= 0.5 up to 100 (counting the exit's 5,000 of initial margin as
    # added would deny even 1: (7,500 - 2,500 - 25) / 10,000 = 0.4975).
    held = FuturesAccount(buffer=D(7_500), threshold=D(2_500), maintenance_share=D("0.5"))
    exiting = _b(200, open_sell=D(200), read_position=D(200))
    assert _entry(100, exiting, futures=held) is None
    assert _entry(101, exiting, futures=held) is not None


def test_a_fill_booked_on_another_future_since_the_account_read_counts_as_unheld_margin() -> None:
    # B long 200 booked after the venue read it flat: 5,000 of initial margin the read's
    # 10,000 of buffer does not hold yet, so A's entry is limited as if it were in flight,
    # up to 100 contracts (the same book as read passes 101: 0.7475).
    booked = _b(200, read_position=D(0))
    assert _entry(101, _b(200)) is None  # B's 200 in the read too (read_position None)
    assert _entry(100, booked) is None
    assert _entry(101, booked) is not None  # (10,000 - 2,500 - 2,525) / 10,000 = 0.4975


def test_a_fill_booked_on_the_entrys_own_future_since_the_account_read_counts_too() -> None:
    # A long 100 booked after the venue read it flat; 101 more make 201 contracts, 10,050 of
    # initial margin over the read's none: (10,000 - 5,025) / 10,000 = 0.4975. Counting only
    # what the order adds over the booked 100, 5,050, it passed at 0.7475.
    assert _entry(101, position=D(100), read_position=D(100)) is None
    assert _entry(100, position=D(100), read_position=D(0)) is None  # 0.5
    assert _entry(101, position=D(100), read_position=D(0)) is not None


def test_a_cross_margin_entry_counts_a_fill_booked_on_another_symbol_since_the_read() -> None:
    # Cross margin, flat as read: B long 40 (0.1 at 2,500: 10,000 of notional, 1,000 of
    # initial margin, 500 of it maintenance) booked since. A's n contracts (500 n of notional,
    # 25 n of maintenance): the move that spends the buffer, (10,000 - 500 - 25 n) / (10,000 +
    # 500 n) >= 0.5 up to 16 contracts; without B's maintenance, (10,000 - 25 n) / (10,000 +
    # 500 n) >= 0.5 up to 18. At 17: 9,075 / 18,500 = 0.4905; counted as read, 9,575 / 18,500
    # = 0.5176 passed.
    booked = _b(40, read_position=D(0))
    assert _entry(17, _b(40), futures=CROSS) is None
    assert _entry(16, booked, futures=CROSS) is None  # 9,100 / 18,000 = 0.5056
    assert _entry(17, booked, futures=CROSS) is not None


def test_a_fill_booked_after_the_account_read_makes_a_later_entry_on_another_future_refused(
    tree: Tree,
) -> None:
    # Through the real risk and portfolio actors: the venue read both futures flat (10,000 of
    # buffer), then the portfolio books a fill of B, 200 at 2,500 (5,000 of initial margin,
    # 2,500 of maintenance the read does not hold). A's entry of 101 passed before the fill
    # at 0.7475; now (10,000 - 2,500 - 2,525) / 10,000 = 0.4975 refuses it, and 100 (0.5)
    # passes.
    tree.start(
        bot_config(
            symbols=(A, B),
            risk={
                "max_order_usd": D(1_000_000), "max_position_usd": D(1_000_000),
                "max_exposure_usd": D(1_000_000), "max_mark_age_s": 300.0,
                "max_leverage": D(10), "min_liquidation_buffer_pct": D("0.5"),
            },
        )
    )  # fmt: skip
    tree.tell(products(PRODUCT_A, PRODUCT_B))
    tree.tell(reconciled())
    flat = (
        VenuePosition(symbol=s, quantity=D(0), average_entry_price=None, contract_size=size)
        for s, size in ((A, D("0.01")), (B, D("0.1")))
    )
    tree.tell(account(100_000, *flat, futures=FLAT))
    marks = (sample([50_000], symbol=A), sample([2_500], symbol=B))
    tree.tell(sampled(1, *marks))
    of_type(tree.published, RiskSnapshot, lambda m: m.cycle == 1 and m.equity == 100_000)
    tree.state(TradingState.ACTIVE)

    tree.tell(fill(Side.BUY, 200, 2_500, symbol=B, contract_size="0.1"))
    # The valuation of cycle 2 follows the fill's PositionChanged to risk.
    tree.tell(sampled(2, *marks))
    of_type(tree.published, RiskSnapshot, lambda m: m.cycle == 2)

    denial = tree.denied(intent(Side.BUY, 101, symbol=A))
    assert denial.rule == "liquidation_buffer"
    assert denial.reason.startswith(
        "projected liquidation buffer 0.4975 is below min_liquidation_buffer_pct 0.5 for"
        " BIP-20DEC30-CDE (the order adds 5,050.00 USD of initial margin at 1 / the leverage"
        " cap 10x (10,050.00 with what the venue's last account read does not hold"
    )
    passing = intent(Side.BUY, 100, symbol=A)
    assert isinstance(tree.place(passing), PlaceOrder)
