"""The control plane's side of the journal on a real JournalActor: the audit, waiting for a
commit, and the health check that the journal keeps committing."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from perpsbot.actors import JournalActor, journal_mailbox
from perpsbot.bot.control import BotControl, JournalAudit, journal_committing, sync_journal
from perpsbot.clock import FakeClock
from perpsbot.config import BotConfig, JournalConfig
from perpsbot.control import AuditRecord
from perpsbot.errors import AskTimeoutError
from perpsbot.ids import SequentialIds
from perpsbot.journal import JournalReader
from perpsbot.runtime import ActorSystem, ChildSpec, SupervisorSpec
from perpsbot.runtime.testing import eventually

RECORD = AuditRecord(operator="shell uid=1000 pid=9", action="restart('bot/poller')", outcome="ok")


@attrs.define
class Journaled:
    system: ActorSystem
    clock: FakeClock
    path: Path

    def audited(self) -> list[tuple[str, str, str, str]]:
        with JournalReader(self.path) as reader:
            return [(a.operator, a.action, a.detail, a.outcome) for a in reader.operator_actions()]

    @property
    def pending(self) -> int:
        count: int = self.system.state("bot/journal").pending
        return count


@pytest.fixture
def journaled(tmp_path: Path) -> Iterator[Journaled]:
    """A real journal whose failed commits are retried only when the test advances the clock
    by 1000 s."""
    clock = FakeClock()
    path = tmp_path / "journal.sqlite3"
    system = ActorSystem("t", clock=clock, ids=SequentialIds("m"), watchdog_interval_s=None)
    journal = ChildSpec(
        name="journal",
        factory=lambda ctx: JournalActor(
            context=ctx, busy_timeout_s=0.01, retry_delays_s=(1000.0,)
        ),
        mailbox=journal_mailbox,
    )
    system.start(
        SupervisorSpec(name="bot", children=[journal]),
        config=BotConfig(journal=JournalConfig(path=path)),
    )
    try:
        sync_journal(system, "bot/journal", timeout_s=5)  # the file exists from here
        yield Journaled(system=system, clock=clock, path=path)
    finally:
        system.shutdown()


@pytest.fixture
def locked(journaled: Journaled) -> Iterator[sqlite3.Connection]:
    """Another process's write lock on the journal file, held until the test releases it."""
    other = sqlite3.connect(journaled.path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        yield other
    finally:
        other.close()


def test_the_audit_journals_an_action_as_operator_acted_and_logs_it(
    journaled: Journaled, caplog: pytest.LogCaptureFixture
) -> None:
    audit = JournalAudit(journaled.system, "bot/journal")
    with caplog.at_level("INFO", logger="perpsbot.audit"):
        audit(RECORD)
        audit(attrs.evolve(RECORD, action="halt('test')", journaled=True))  # risk records it
    sync_journal(journaled.system, "bot/journal", timeout_s=5)
    assert journaled.audited() == [("shell uid=1000 pid=9", "restart", "'bot/poller'", "ok")]
    assert [r.getMessage() for r in caplog.records] == [
        "operator shell uid=1000 pid=9: restart('bot/poller') -> ok",
        "operator shell uid=1000 pid=9: halt('test') -> ok",
    ]


def test_without_a_journal_the_audit_is_the_log_line(caplog: pytest.LogCaptureFixture) -> None:
    system = ActorSystem("t", clock=FakeClock(), watchdog_interval_s=None)
    try:
        with caplog.at_level("INFO", logger="perpsbot.audit"):
            JournalAudit(system, "bot/journal")(RECORD)
    finally:
        system.shutdown()
    assert [r.getMessage() for r in caplog.records] == [
        "operator shell uid=1000 pid=9: restart('bot/poller') -> ok"
    ]


def test_sync_waits_for_the_commit_and_times_out_while_the_journal_cannot_commit(
    journaled: Journaled, locked: sqlite3.Connection
) -> None:
    JournalAudit(journaled.system, "bot/journal")(RECORD)
    with pytest.raises(AskTimeoutError, match="bot/journal did not confirm SyncJournal"):
        sync_journal(journaled.system, "bot/journal", timeout_s=0.3)
    assert journaled.audited() == []
    # The failed commit armed the retry (the ask's timeout does not prove the attempt came).
    eventually(lambda: journaled.system.state("bot/journal").write_errors == 1, what="a failure")

    locked.close()
    journaled.clock.advance(1000.0)  # the retry
    sync_journal(journaled.system, "bot/journal", timeout_s=5)
    assert [action for _, action, _, _ in journaled.audited()] == ["restart"]


def test_a_journal_that_stops_committing_is_not_live_until_it_commits_again(
    journaled: Journaled, locked: sqlite3.Connection
) -> None:
    check = journal_committing(journaled.system, "bot/journal", stalled_after_s=30)
    assert check.problem() is None
    assert check.liveness
    JournalAudit(journaled.system, "bot/journal")(RECORD)
    eventually(lambda: journaled.system.state("bot/journal").write_errors == 1, what="a failure")
    assert check.problem() is None  # the stall starts now
    journaled.clock.advance(29.0)
    assert check.problem() is None
    journaled.clock.advance(2.0)
    assert check.problem() == "1 events uncommitted, no commit for 31s (1 write errors)"

    locked.close()
    journaled.clock.advance(1000.0)  # the retry commits
    eventually(lambda: journaled.pending == 0, what="the retry to commit")
    assert check.problem() is None


def test_the_bots_liveness_reports_a_journal_that_stopped_committing(
    journaled: Journaled, locked: sqlite3.Connection
) -> None:
    control = BotControl(
        journaled.system, config=BotConfig(journal=JournalConfig(path=journaled.path))
    )
    try:
        assert control.health().live
        JournalAudit(journaled.system, "bot/journal")(RECORD)
        eventually(lambda: journaled.system.state("bot/journal").write_errors == 1)
        assert control.health().live  # the stall starts now
        journaled.clock.advance(31.0)
        health = control.health()
        assert not health.live
        assert "journal: 1 events uncommitted, no commit for 31s (1 write errors)" in (
            health.problems
        )
    finally:
        control.close()
