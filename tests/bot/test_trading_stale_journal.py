"""A bot restarted on a journal older than the venue (restored from a backup) takes the
venue's positions as the truth: the fills it forgot, the venue still lists (the last day's),
are booked and journaled again by reconciliation's sweep, and it says so: on its console, in
its log and in the journal."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from perpsbot.journal import JournalReader
from perpsbot.messages import SWEPT_CAUSE, OrderStatus
from perpsbot.runtime.testing import eventually
from tests.bot.processes import PERP, bot_toml, running_bot, running_sim, wait_journaled

# Process-level: runs perpsbot processes or the whole daemon (pytest -m 'not slow' skips it).
pytestmark = pytest.mark.slow


def _backup(journal: Path, copy: Path) -> None:
    source = sqlite3.connect(f"file:{journal}?mode=ro", uri=True)
    target = sqlite3.connect(copy)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()


def _restore(copy: Path, journal: Path) -> None:
    for stale in (journal, Path(f"{journal}-wal"), Path(f"{journal}-shm")):
        stale.unlink(missing_ok=True)
    _backup(copy, journal)


def _position(journal: Path) -> object:
    with JournalReader(journal) as reader:
        changed = reader.latest_positions().get(PERP)
        return None if changed is None else changed.position.quantity


def test_a_stale_journal_gets_the_fill_it_forgot_back_from_the_venue_and_says_so(
    tmp_path: Path,
) -> None:
    journal = tmp_path / "var" / "journal.sqlite3"
    config = tmp_path / "bot.toml"
    old = tmp_path / "backup.sqlite3"
    with running_sim() as sim:
        config.write_text(bot_toml(sim, journal, symbols=(PERP,)))
        with running_bot(config) as bot:  # a first run: nothing traded yet
            bot.ready()
            assert bot.stop() == 0
        _backup(journal, old)

        with running_bot(config) as bot:  # a second run buys a contract
            bot.ready()
            sim.jump(0.05)  # the spot price: the perp follows it
            wait_journaled(journal, bot.allowed(), OrderStatus.FILLED)
            eventually(lambda: _position(journal) == 1, what="the journaled long")
            with JournalReader(journal) as reader:
                (bought,) = reader.fills()
            assert bot.stop() == 0

        _restore(old, journal)  # the journal forgets the second run
        with running_bot(config) as bot:
            said = bot.out.until(f"buy 1 {PERP} @")  # the console's line of the fill
            # Trading resumes only once the portfolio's book holds the venue's position: an
            # entry decided on the stale flat book would buy while the venue holds a long.
            assert "trading active" not in said
            assert bought.fill_id in bot.err.until("found by reconciliation's sweep")
            bot.ready()
            eventually(lambda: _position(journal) == 1, what="the position journaled again")
            with JournalReader(journal) as reader:
                assert [f.fill_id for f in reader.fills()] == [bought.fill_id]
                assert reader.latest_positions()[PERP].cause.startswith(SWEPT_CAUSE)
            # The corrected position is the bot's to manage: a fall closes it.
            sim.jump(-0.05)
            wait_journaled(journal, bot.allowed(), OrderStatus.FILLED)
            eventually(lambda: _position(journal) == 0, what="flat again")
            assert bot.stop() == 0
