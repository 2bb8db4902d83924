"""The kill switch holds: an operator's halt survives crashes of the strategy and the executor
and a killed process, and no order reaches the venue until an operator resumes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from perpsbot.journal import JournalReader
from perpsbot.messages import OrderStatus, Resume, TradingState
from perpsbot.runtime.testing import eventually
from tests.bot.processes import (
    assert_one_order_per_intent,
    bot_toml,
    running_bot,
    running_sim,
    shell,
    status,
    wait_journaled,
)

# Process-level: runs perpsbot processes or the whole daemon (pytest -m 'not slow' skips it).
pytestmark = pytest.mark.slow

CRASHED = ("bot/strategy", "bot/executor")


def _crashed_and_back(config: Path) -> bool:
    """Both crashed actors failed once and run again (status --json, as an operator sees)."""
    actors: dict[str, Any] = {a["path"]: a for a in status(config)["actors"]}
    return all(
        actors[path]["failures"] == 1
        and actors[path]["restarts"] >= 1
        and actors[path]["state"] == "running"
        for path in CRASHED
    )


def test_a_halt_holds_across_crashed_actors_and_a_killed_process_until_resumed(
    tmp_path: Path,
) -> None:
    journal = tmp_path / "var" / "journal.sqlite3"
    config = tmp_path / "bot.toml"
    with running_sim() as sim:
        config.write_text(bot_toml(sim, journal))
        with running_bot(config) as bot:
            bot.ready()
            answer = shell(config, 'halt("incident 7")')
            assert answer.startswith("trading HALTED (halted by shell uid=")
            assert "committed to the journal" in answer
            assert ": incident 7" in bot.out.until("trading halted")
            for path in CRASHED:
                assert "failed: drill" in shell(config, f'crash("{path}", "drill")')
            bot.out.until("startup reconciliation")  # the new executor reconciled
            eventually(lambda: _crashed_and_back(config), timeout_s=20, what="both restarted")
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
            assert "state halted (halted by shell uid=" in summary
            assert ": incident 7" in summary
            assert sim.our_orders() == []
            assert not [line for line in bot.err.seen if " allowed: " in line]

            resumed = shell(config, 'resume("incident 7 closed")')
            assert "committed to the journal" in resumed
            bot.out.until("trading active")
            bot.cycles(6)
            sim.jump(0.05)
            wait_journaled(journal, bot.allowed(), OrderStatus.FILLED)
            assert bot.stop() == 0
        assert len(assert_one_order_per_intent(journal, sim)) == 1
        with JournalReader(journal) as reader:
            assert isinstance(reader.last_operator_command(), Resume)
            halted = [c for c in reader.trading_state_changes() if c.state is TradingState.HALTED]
            crashes = [a for a in reader.operator_actions() if a.action == "crash"]
        assert any(r.endswith(": incident 7") for c in halted for r in c.reasons)
        assert [a.detail for a in crashes] == [f"'{path}', 'drill'" for path in CRASHED]
