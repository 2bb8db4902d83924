"""The kill switch holds: an operator's halt survives restarts of the strategy and the
executor and a killed process, and no order reaches the venue until an operator resumes."""

from __future__ import annotations

from pathlib import Path

from perpsbot.journal import JournalReader
from perpsbot.messages import OrderStatus, Resume, TradingState
from tests.bot.processes import (
    assert_one_order_per_intent,
    bot_toml,
    running_bot,
    running_sim,
    shell,
    wait_journaled,
)


def _tell_risk(command: str, reason: str) -> str:
    """A shell expression telling risk the operator's ``command`` (``Halt``, ``Resume``)."""
    return (
        f'system.address("bot/risk").tell(__import__("perpsbot.messages", fromlist=["_"])'
        f'.{command}(message_id="op-{command}", ts_created_ns=0, reason="{reason}",'
        ' operator="test"))'
    )


def test_a_halt_holds_across_actor_restarts_and_a_killed_process_until_resumed(
    tmp_path: Path,
) -> None:
    journal = tmp_path / "var" / "journal.sqlite3"
    config = tmp_path / "bot.toml"
    with running_sim() as sim:
        config.write_text(bot_toml(sim, journal))
        with running_bot(config) as bot:
            bot.ready()
            shell(config, _tell_risk("Halt", "incident 7"))
            assert "halted by test: incident 7" in bot.out.until("trading halted")
            shell(config, 'restart("bot/strategy")')
            shell(config, 'restart("bot/executor")')
            bot.out.until("startup reconciliation")  # the new executor reconciled
            sim.jump(0.05)  # a cross the strategy would trade
            bot.cycles(8)
            assert sim.our_orders() == []
            bot.kill()

        with running_bot(config) as bot:  # the next process reads the halt back
            bot.out.until("startup reconciliation")
            bot.cycles(6)
            sim.jump(0.05)
            bot.cycles(8)
            summary = bot.out.until("  equity ")
            assert "state halted (halted by test: incident 7" in summary
            assert sim.our_orders() == []
            assert not [line for line in bot.err.seen if " allowed: " in line]

            shell(config, _tell_risk("Resume", "incident 7 closed"))
            bot.out.until("trading active")
            bot.cycles(6)
            sim.jump(0.05)
            wait_journaled(journal, bot.allowed(), OrderStatus.FILLED)
            assert bot.stop() == 0
        assert len(assert_one_order_per_intent(journal, sim)) == 1
        with JournalReader(journal) as reader:
            assert isinstance(reader.last_operator_command(), Resume)
            halted = [c for c in reader.trading_state_changes() if c.state is TradingState.HALTED]
        assert any("halted by test: incident 7" in c.reasons for c in halted)
