"""``perpsbot run`` killed with SIGKILL again and again while it trades against a separately
started ``perpsbot sim`` that injects venue faults, restarted on the same journal each time:
the CI-sized profile of ``python -m tests.bot.chaos`` (see its docstring for the long one).

Everything is observed from outside: the bot's log lines (the kill follows risk's
``allowed`` line), its journal file (read-only) and the exchange's REST and fault APIs."""

from __future__ import annotations

from pathlib import Path

import pytest

from perpsbot.ids import client_order_id
from perpsbot.messages import OrderStatus
from perpsbot.runtime.testing import eventually
from tests.bot.chaos import ChaosRun, Settings
from tests.bot.chaos_checks import INVARIANTS, JournalFacts, VenueHistory, check
from tests.bot.processes import (
    bot_toml,
    journaled_status,
    running_bot,
    running_sim,
    wait_journaled,
)

# Process-level: runs perpsbot processes or the whole daemon (pytest -m 'not slow' skips it).
pytestmark = pytest.mark.slow

TIMED, RANDOM = True, False


def test_kill_9_at_random_and_just_after_an_allowed_order_under_venue_faults_breaks_no_invariant(
    tmp_path: Path,
) -> None:
    """One order per intent at the venue, no entry while it held a position, no exit past
    the position, every venue fill journaled, and the journal's positions the venue's."""
    kinds = (TIMED, RANDOM, TIMED, RANDOM)
    settings = Settings(
        kills=len(kinds),
        kinds=kinds,
        seed=3,
        timed_max_ms=30.0,
        random_max_s=2.5,
        fault_interval_s=(1.0, 3.0),
        wait_s=20.0,
    )
    report = ChaosRun(settings, tmp_path, say=lambda _: None).run()

    printed = "\n".join(report.lines())
    assert report.timed_without_order == 0, printed
    assert sum(report.kill_points.values()) == kinds.count(TIMED), printed
    # Not vacuous: an order reached the venue, unless every timed kill landed before its
    # intent was journaled (a busy machine is slow to journal), when none may (none did).
    unjournaled = report.kill_points.get("before the journal write", 0) == kinds.count(TIMED)
    assert report.figures.orders > 0 or unjournaled, printed
    for invariant in INVARIANTS:
        assert report.figures.count(invariant) == 0, printed


def test_an_entry_journaled_before_a_kill_keeps_the_restarted_strategy_from_entering_again(
    tmp_path: Path,
) -> None:
    """Found by the chaos run: the entry is held back at the restart (trading reduces while
    it reconciles) and waits for the next reconciliation to be sent; meanwhile a new cross
    must not make the new process's strategy enter a second time."""
    journal = tmp_path / "var" / "journal.sqlite3"
    config = tmp_path / "bot.toml"
    with running_sim() as sim:
        config.write_text(bot_toml(sim, journal, execution="reconcile_interval_s = 8.0"))
        with running_bot(config) as bot:
            bot.ready()
            # The venue refuses order requests (429, come back in 30 s): journaled, unsent.
            sim.fault("http_error", status=429, retry_after_s=30, count=1000, path="/orders")
            sim.jump(0.05)
            held_back = bot.allowed()
            # Its SUBMITTED is told once the refused request returns, with what it became.
            eventually(
                lambda: journaled_status(journal, held_back) is OrderStatus.UNKNOWN,
                timeout_s=30,
                what=f"the journal to hold {held_back} as sent, its outcome unknown",
            )
            bot.kill()
        sim.clear_faults()
        with running_bot(config) as bot:
            bot.ready()
            sim.jump(0.05)  # a new cross, before the next reconciliation sends the entry
            wait_journaled(journal, held_back, OrderStatus.FILLED)
            assert bot.stop() == 0
        figures = check(VenueHistory.read(sim.rest), JournalFacts.read(journal))
        assert figures.violations == (), figures.lines()
        assert [o.client_order_id for o in sim.our_orders()] == [client_order_id(held_back)]
