"""An operator's halt and the kill switch cancel the bot's resting orders at the venue: HALTED
means nothing of the bot's works at the venue, not only that nothing new is sent."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import attrs

from perpsbot.bot import ROOT
from perpsbot.messages import Halt, OrderStatus, OrderUpdated, TimeInForce, TradingState
from perpsbot.runtime.testing import eventually
from tests.actors.execution.executor_harness import make_intent
from tests.actors.trading import command
from tests.bot.trading_tree import (
    SYMBOL,
    TradingTree,
    scripted_exchange,
    trading_config,
    trading_tree,
)
from tests.support.sim_clients import sim_rest


def resting_order(bot: TradingTree) -> str:
    """A GTC limit buy 10% below the mark, told to risk as the strategy tells its intents;
    returns its venue order id once it rests on the book."""
    mark = bot.mark()
    made = make_intent(
        bot.clock,
        "resting",
        symbol=SYMBOL,
        size="0.001",
        limit=str((mark * Decimal("0.9")).quantize(Decimal("0.01"))),
        tif=TimeInForce.GTC,
        mark=str(mark),
    )
    bot.system.address(f"{ROOT}/risk").tell(made)
    resting = bot.wait(
        OrderUpdated,
        lambda u: u.intent_id == made.intent_id and u.status is OrderStatus.ACKNOWLEDGED,
        "the order resting on the book",
    )
    assert resting.venue_order_id is not None
    return resting.venue_order_id


def venue_status(bot: TradingTree, venue_order_id: str) -> str:
    return sim_rest(bot.sim, bot.clock).get_order(venue_order_id).status


def test_an_operators_halt_cancels_a_resting_order_at_the_venue(tmp_path: Path) -> None:
    with trading_tree(tmp_path / "journal.sqlite3") as bot:
        bot.active()
        order_id = resting_order(bot)
        assert venue_status(bot, order_id) == "OPEN"

        halted = bot.system.address(f"{ROOT}/risk").ask(
            command(Halt, "incident 9", "alice"), timeout_s=5
        )

        assert halted is TradingState.HALTED
        eventually(lambda: venue_status(bot, order_id) == "CANCELLED", what="the order cancelled")
        bot.wait(
            OrderUpdated,
            lambda u: u.venue_order_id == order_id and u.status is OrderStatus.CANCELLED,
            "the executor's record of the cancel",
        )


def test_turning_the_kill_switch_on_cancels_a_resting_order_at_the_venue(
    tmp_path: Path,
) -> None:
    config = trading_config(tmp_path / "journal.sqlite3")
    with trading_tree(tmp_path / "journal.sqlite3", config=config) as bot:
        bot.active()
        order_id = resting_order(bot)
        assert venue_status(bot, order_id) == "OPEN"

        bot.system.reload(attrs.evolve(config, risk=attrs.evolve(config.risk, kill_switch=True)))

        eventually(lambda: venue_status(bot, order_id) == "CANCELLED", what="the order cancelled")
        _, snapshot = bot.sample()
        assert (snapshot.state, snapshot.reasons) == (
            TradingState.HALTED,
            ("risk.kill_switch is on",),
        )


def test_a_process_started_with_the_kill_switch_on_cancels_the_order_left_resting(
    tmp_path: Path,
) -> None:
    """The kill switch set while the bot was down (in the file it starts with): the order an
    earlier process left on the book is cancelled once the new one has reconciled."""
    journal = tmp_path / "journal.sqlite3"
    config = trading_config(journal)
    with scripted_exchange() as sim:
        with trading_tree(journal, config=config, sim=sim) as bot:
            bot.active()
            order_id = resting_order(bot)
            clock = bot.clock
        assert venue_status(bot, order_id) == "OPEN"

        killed = attrs.evolve(config, risk=attrs.evolve(config.risk, kill_switch=True))
        with trading_tree(journal, config=killed, sim=sim, clock=clock) as bot:
            eventually(
                lambda: venue_status(bot, order_id) == "CANCELLED", what="the order cancelled"
            )
            bot.wait(
                OrderUpdated,
                lambda u: u.venue_order_id == order_id and u.status is OrderStatus.CANCELLED,
                "the executor's record of the cancel",
            )
