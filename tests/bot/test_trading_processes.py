"""``perpsbot run`` killed with SIGKILL at each point of the order path, restarted against the
same ``perpsbot sim``: the venue ends with exactly one order per journaled intent, and the
journal agrees with it. Each point is reached and observed from outside: the bot's lines,
its journal file (read-only), the exchange's REST API and its fault endpoints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from perpsbot.ids import client_order_id
from perpsbot.journal import JournalReader
from perpsbot.messages import OrderStatus
from tests.bot.processes import (
    SPOT,
    SimProcess,
    assert_one_order_per_intent,
    bot_toml,
    journaled_status,
    running_bot,
    running_sim,
    wait_journaled,
    wait_settled,
    write_lock,
)

# Process-level: runs perpsbot processes or the whole daemon (pytest -m 'not slow' skips it).
pytestmark = pytest.mark.slow

S = OrderStatus


def _configure(tmp_path: Path, sim: SimProcess) -> tuple[Path, Path]:
    journal = tmp_path / "var" / "journal.sqlite3"
    config = tmp_path / "bot.toml"
    config.write_text(bot_toml(sim, journal))
    return config, journal


def _restart_and_check(config: Path, journal: Path, sim: SimProcess, *, long: bool) -> None:
    """Restart the bot: the venue and the journal agree once it settled the journal's
    unfinished intents, and it trades on:
    the next scripted move (a fall when it holds a position, a rise when flat) places one
    more order, which fills and is journaled."""
    with running_bot(config) as bot:
        bot.ready()
        # An entry journaled before the kill waited for trading to be ACTIVE: it may still be
        # on its way (sent within its TTL, or settled unsent past it).
        wait_settled(journal)
        assert_one_order_per_intent(journal, sim)
        sim.jump(-0.05 if long else 0.05)
        wait_journaled(journal, bot.allowed(), S.FILLED)
        assert bot.stop() == 0
    assert_one_order_per_intent(journal, sim)


def test_killed_before_the_journal_write_the_intent_never_reaches_the_venue(
    tmp_path: Path,
) -> None:
    with running_sim() as sim:
        config, journal = _configure(tmp_path, sim)
        with running_bot(config) as bot:
            bot.ready()
            with write_lock(journal):  # the journal cannot commit the intent
                sim.jump(0.05)
                intent_id = bot.allowed()
                bot.err.until("failed (database is locked)")
                with JournalReader(journal) as reader:
                    assert reader.intent(intent_id) is None
                bot.kill()
        assert journaled_status(journal, intent_id) is None
        assert client_order_id(intent_id) not in {o.client_order_id for o in sim.our_orders()}
        _restart_and_check(config, journal, sim, long=False)


def test_killed_after_the_journal_write_before_the_venue_took_the_order_it_is_sent_once(
    tmp_path: Path,
) -> None:
    with running_sim() as sim:
        config, journal = _configure(tmp_path, sim)
        with running_bot(config) as bot:
            bot.ready()
            # The venue refuses order requests (429, come back in 30 s): journaled, unsent.
            sim.fault("http_error", status=429, retry_after_s=30, count=1000, path="/orders")
            sim.jump(0.05)
            intent_id = bot.allowed()
            wait_journaled(journal, intent_id, S.SUBMITTED)
            bot.kill()
        sim.clear_faults()
        assert sim.our_orders() == []
        _restart_and_check(config, journal, sim, long=True)
        assert journaled_status(journal, intent_id) is S.FILLED


def test_killed_after_the_venue_took_the_order_before_its_answer_it_is_settled_not_resent(
    tmp_path: Path,
) -> None:
    with running_sim() as sim:
        config, journal = _configure(tmp_path, sim)
        with running_bot(config) as bot:
            bot.ready()
            # The venue creates the order and drops the connection; looking it up fails too.
            sim.fault("lose_order_ack", count=1)
            sim.fault("http_error", status=500, count=1000, path="/orders/historical")
            sim.jump(0.05)
            intent_id = bot.allowed()
            wait_journaled(journal, intent_id, S.UNKNOWN)
            bot.kill()
        sim.clear_faults()
        (order,) = sim.our_orders()
        assert order.client_order_id == client_order_id(intent_id)
        _restart_and_check(config, journal, sim, long=True)
        assert journaled_status(journal, intent_id) is S.FILLED


def test_killed_after_the_answer_before_the_journal_recorded_it_it_is_settled_not_resent(
    tmp_path: Path,
) -> None:
    with running_sim() as sim:
        config, journal = _configure(tmp_path, sim)
        with running_bot(config) as bot:
            bot.ready()
            sim.fault("slow_responses", delay_s=3.0, count=1)  # the order request's answer
            sim.jump(0.05)
            intent_id = bot.allowed()
            wait_journaled(journal, intent_id, S.SUBMITTED)
            with write_lock(journal):  # from now on the journal records nothing
                bot.out.until(f"order {client_order_id(intent_id)[:12]}  buy")  # the answer
                assert journaled_status(journal, intent_id) is S.SUBMITTED
                bot.kill()
        (order,) = sim.our_orders()
        assert order.client_order_id == client_order_id(intent_id)
        _restart_and_check(config, journal, sim, long=True)
        assert journaled_status(journal, intent_id) is S.FILLED


def test_dry_run_journals_the_full_order_and_sends_nothing(tmp_path: Path) -> None:
    with running_sim() as sim:
        config, journal = _configure(tmp_path, sim)
        with running_bot(config, "--dry-run") as bot:
            assert "DRY RUN" in bot.out.until("perpsbot ")
            bot.ready()
            sim.jump(0.05)
            intent_id = bot.allowed()
            printed = bot.out.until("dry run ")
            assert bot.stop() == 0
        with JournalReader(journal) as reader:
            (would,) = reader.dry_run_orders()
        assert would.intent_id == intent_id
        assert would.client_order_id == client_order_id(intent_id)
        request = json.loads(would.request)
        assert request["product_id"] == SPOT
        assert request["side"] == "BUY"
        assert request["client_order_id"] == would.client_order_id
        assert would.request in printed
        assert sim.rest.list_orders() == []
