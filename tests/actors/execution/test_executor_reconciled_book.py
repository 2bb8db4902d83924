"""Between a reconciliation and the portfolio's answer to it, the executor sends nothing.

The executor publishes ``AccountReconciled``; the portfolio (the owner of positions) corrects
its book from it and answers with ``PositionChanged`` and a ``PortfolioValued`` whose
``correlation_id`` is that reconciliation. In between, the executor's copy of the position is
the one being corrected: an exit sized from it could sell past what the venue holds. Here the
test plays the portfolio, so it decides when the answer comes.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from perpsbot.clock import FakeClock
from perpsbot.ids import client_order_id
from perpsbot.messages import (
    AccountReconciled,
    IntentPurpose,
    OrderDenied,
    OrderStatus,
    OrderUpdated,
    PortfolioValued,
    PositionChanged,
    PositionView,
    Side,
    TradingState,
)
from perpsbot.runtime import ChildSpec
from perpsbot.runtime.testing import Probe, wait_drained
from perpsbot.sim import SimConfig, SimExchange
from perpsbot.venue.orders import MarketIoc, OrderRequest, OrderSide
from tests.actors.conftest import Subscriber
from tests.actors.execution.executor_harness import PERP, Harness, running, start_executor
from tests.support.sim_clients import sim_rest

MARK = "69000"


@pytest.fixture
def sim() -> Iterator[SimExchange]:
    with SimExchange(SimConfig(verify_auth=False, tick_interval_s=None, seed=9)) as sim:
        yield sim


@pytest.fixture
def bot(sim: SimExchange, tmp_path: Path) -> Iterator[Harness]:
    """The venue holds long 1 of the perp, bought by a previous run; the executor starts with
    a stand-in portfolio that answers only when the test says."""
    rest = sim_rest(sim, FakeClock())
    try:
        rest.create_order(
            OrderRequest(
                client_order_id=client_order_id("bought-before"), product_id=PERP,
                side=OrderSide.BUY, configuration=MarketIoc(base_size=Decimal(1)),
                leverage=Decimal(2),
            )
        )  # fmt: skip
    finally:
        rest.close()
    probe = Probe()
    stand_in = ChildSpec(name="portfolio", factory=lambda c: Subscriber(context=c, probe=probe))
    harness = start_executor(sim, tmp_path / "j.sqlite3", probe=probe, portfolio=stand_in)
    with running(harness):
        yield harness


def _position(bot: Harness, quantity: str, correlation_id: str | None) -> PositionChanged:
    view = PositionView(
        symbol=PERP, quantity=Decimal(quantity), average_entry_price=Decimal(MARK),
        contract_size=Decimal("0.01"), mark=None, realized_pnl=Decimal(0),
        unrealized_pnl=Decimal(0), fees=Decimal(0), funding=Decimal(0),
    )  # fmt: skip
    return PositionChanged(
        message_id=f"pos-{quantity}-{correlation_id}", ts_created_ns=bot.clock.time_ns(),
        correlation_id=correlation_id, cause="test", position=view,
    )  # fmt: skip


def _answer(bot: Harness, reconciled: AccountReconciled, quantity: str) -> None:
    """The portfolio's answer to ``reconciled``: the corrected position, then the valuation."""
    bot.executor.tell(_position(bot, quantity, reconciled.message_id))
    bot.executor.tell(
        PortfolioValued(
            message_id=f"valued-{reconciled.message_id}", ts_created_ns=bot.clock.time_ns(),
            cycle=None, equity=None, realized_pnl=Decimal(0), unrealized_pnl=Decimal(0),
            daily_pnl=Decimal(0), exposure=Decimal(0), positions=(),
            correlation_id=reconciled.message_id,
        )
    )  # fmt: skip


def _venue_holds(bot: Harness) -> Decimal:
    held = {p.product_id: p.signed_contracts for p in bot.rest.cfm_positions()}
    return held.get(PERP, Decimal(0))


def _exit(bot: Harness, name: str, size: str) -> str:
    bot.place(
        bot.intent(name, symbol=PERP, side=Side.SELL, size=size, purpose=IntentPurpose.EXIT,
                   mark=MARK)
    )  # fmt: skip
    return client_order_id(name)


def test_an_exit_sized_from_a_stale_position_waits_for_the_portfolios_answer(
    bot: Harness,
) -> None:
    # The journal said long 2 (as a stale book would at a start); the venue holds 1.
    bot.executor.tell(_position(bot, "2", None))
    bot.trading(TradingState.ACTIVE)
    (reconciled, *_) = bot.of(AccountReconciled)
    assert _venue_holds(bot) == 1

    coid = _exit(bot, "exit-stale", "2")  # the strategy's exit, sampled right after
    wait_drained(bot.executor)

    _answer(bot, reconciled, "1")  # the portfolio corrected long 2 to the venue's 1
    denied = bot.denial("exit-stale")  # checked against the corrected position, not sent
    assert denied.rule == "reduce_only"
    assert "long 1" in denied.reason
    assert bot.updates(coid) == []
    assert _venue_holds(bot) == 1  # never more than the venue's 1 sold: no short

    closing = _exit(bot, "exit-corrected", "1")  # decided again on the corrected position
    bot.wait_status(closing, OrderStatus.ACKNOWLEDGED)  # sent at once: nothing waits now
    bot.until(lambda: _venue_holds(bot) == 0, "the venue to be flat")


def test_an_order_that_waited_past_its_ttl_for_the_answer_is_denied(bot: Harness) -> None:
    bot.executor.tell(_position(bot, "1", None))
    bot.trading(TradingState.ACTIVE)
    coid = _exit(bot, "exit-waits", "1")
    wait_drained(bot.executor)
    assert bot.state().held_for_book == ("exit-waits",)
    bot.clock.advance(31.0)  # past the intent's TTL; the poll timer fires
    denied = bot.denial("exit-waits")
    assert denied.rule == "reconciliation_pending"
    assert "expired while the portfolio had not answered" in denied.reason
    assert bot.updates(coid) == []
    assert not [u for u in bot.of(OrderUpdated) if u.intent_id == "exit-waits"]
    assert not [d for d in bot.of(OrderDenied) if d.intent_id != "exit-waits"]
