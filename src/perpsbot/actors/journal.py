"""JournalActor: the single writer of the bot's SQLite journal (one file per profile, WAL).

Every event it is told is stored; ``RecordIntent``, ``SyncJournal`` and the reads are answered
by a message told to their ``reply_to`` once what they ask for is committed: ``ReadBook``
(the fills and corrections the portfolio's book is rebuilt from), ``ReadOrders`` (the
executor's unfinished orders), ``ReadOperatorState`` (risk's last operator command) and
``ReadStops`` (where the strategy's trailing stops were). No
actor opens the file behind this one's back; reports read it through a
:class:`~perpsbot.journal.JournalReader` (read-only connection).

Batching: the first event of a batch makes the actor tell itself a flush, which lands behind
everything already queued; the flush writes the whole batch in one transaction. Under load a
commit carries many events; at low load an event waits one hop. A ``RecordIntent`` is on the
order path: it is committed at once, with whatever is pending before it, never behind what is
queued after it. ``IntentRecorded`` and ``JournalSynced`` are told only after the commit that
holds what they confirm.

Write errors lose nothing. A busy or full database (``sqlite3.OperationalError``) keeps the
batch and retries it on a bounded backoff, one chain of retries per failing batch (timer
messages: the actor keeps answering pings and queueing events meanwhile, and what arrives
joins the waiting batch); past the last retry the actor fails with
:class:`~perpsbot.errors.JournalWriteError` and hands the unwritten batch to its successor
(warm restart), whose restarts the supervisor's intensity bounds. A message the database
refuses on its own (a constraint) is left out of its batch and becomes a dead letter.

An orderly stop journals what is still queued before it closes the file. Live config keys:
``journal.synchronous`` and ``journal.risk_snapshot_interval_s``; ``journal.path`` needs a
restart. Give the child a ``journal_mailbox()`` (unbounded: events are never dropped) and a
restart buffer large enough for what arrives while it restarts.

Its parts: the writing connection and its counts (``_journal_writer``), the retries of a
failing batch (``_journal_retry``), what is told after a commit (``_journal_replies``) and
the mailbox (``_journal_mailbox``).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from typing import Any

from perpsbot.actors._journal_mailbox import JournalMailbox, journal_mailbox
from perpsbot.actors._journal_replies import (
    READS,
    Request,
    answer_read,
    intent_recorded,
    is_address,
    synced,
)
from perpsbot.actors._journal_retry import RETRY_DELAYS_S, CommitRetries
from perpsbot.actors._journal_state import JournalState
from perpsbot.actors._journal_writer import JournalWriter
from perpsbot.config import BotConfig, JournalConfig
from perpsbot.journal import BatchResult, JournalStore, Prepared, RiskSnapshotFilter
from perpsbot.messages import (
    AccountReconciled,
    ConfigReloaded,
    DryRunOrder,
    FlushJournal,
    Halt,
    OperatorActed,
    OrderDenied,
    OrderFilled,
    OrderUpdated,
    PositionChanged,
    ReadBook,
    ReadOperatorState,
    ReadOrders,
    ReadStops,
    ReconciliationCompleted,
    ReconciliationStarted,
    RecordIntent,
    ReduceOnly,
    Resume,
    RiskSnapshot,
    Stamper,
    StopMoved,
    SyncJournal,
    TradingStateChanged,
)
from perpsbot.runtime import ActorContext, BaseActor, ConfigChanged

__all__ = ["RETRY_DELAYS_S", "JournalActor", "JournalMailbox", "journal_mailbox"]

logger = logging.getLogger("perpsbot.actors.journal")


class JournalActor(BaseActor):
    """Owns the journal file's only writing connection.

    Args:
        context: from the supervisor; ``context.config`` is the :class:`BotConfig`.
        busy_timeout_s: how long one write waits for a lock another process holds; keep it
            well under the watchdog's timeout.
        retry_delays_s: delays before each retry of a batch that failed to commit.
        max_batch: the most events one transaction holds: a batch that reaches it is
            committed at once, so no commit keeps the actor from its watchdog for long.
        disposable: a journal that a rerun makes again (a backtest's): committed with
            SQLite's ``synchronous=off``, never synced to disk (a crash of the machine may
            corrupt it), whatever ``journal.synchronous`` says. Never a live bot's.
    """

    def __init__(
        self,
        *,
        context: ActorContext,
        busy_timeout_s: float = 1.0,
        retry_delays_s: Sequence[float] = RETRY_DELAYS_S,
        max_batch: int = 5_000,
        disposable: bool = False,
    ) -> None:
        super().__init__(context=context)
        config: BotConfig = context.config
        self._settings: JournalConfig = config.journal
        self._busy_timeout_s = busy_timeout_s
        self._retries = CommitRetries(retry_delays_s)
        self._max_batch = max_batch
        self._disposable = disposable
        self._stamper = Stamper(context.clock, context.ids)
        self._snapshots = RiskSnapshotFilter(_ns(self._settings.risk_snapshot_interval_s))
        self._pending: list[Prepared] = []
        self._flush_due = False
        self._writer = JournalWriter()
        self._stats = self._writer.stats

    # -- lifecycle -------------------------------------------------------------------------

    def on_start(self) -> None:
        self._writer.open(
            self._settings.path,
            synchronous="off" if self._disposable else self._settings.synchronous.value,
            busy_timeout_s=self._busy_timeout_s,
        )
        if self._pending:  # handed over by a predecessor that could not commit them
            logger.warning(
                "%s: committing %d events left unwritten", self.address.path, len(self._pending)
            )
            self._schedule_flush()

    def on_stop(self) -> None:
        inbox = self.actor_inbox
        # What is absorbed here is committed below: no flush is told, since it could only
        # reach the closing mailbox (a dead letter).
        self._flush_due = True
        if isinstance(inbox, JournalMailbox):
            for item in inbox.take_queued():
                # A told message is queued as itself, an ask inside an envelope (not answered).
                self._absorb(getattr(item, "message", item))
        if self._pending and self._writer.is_open:
            batch, self._pending = self._pending, []
            try:
                result = self._writer.write(batch, actor=self.address.path)
            except sqlite3.Error:
                # Kept for a successor (snapshot_state); logged, since the stop goes on.
                self._pending = batch
                logger.exception("%s: %d events unwritten at stop", self.address.path, len(batch))
            else:
                self._settle(batch, result)
        self._writer.close()

    def on_failure(self, *_: object) -> None:
        self._writer.close()

    def on_config_changed(self, message: ConfigChanged) -> None:
        new: JournalConfig = message.config.journal
        if new.synchronous != self._settings.synchronous and not self._disposable:
            self._writer.set_synchronous(new.synchronous.value)
        self._snapshots.interval_ns = _ns(new.risk_snapshot_interval_s)
        self._settings = new

    def snapshot_state(self) -> dict[str, Any]:
        return {"pending": list(self._pending), "stats": dict(self._stats)}

    def restore_state(self, snapshot: dict[str, Any]) -> None:
        self._pending = list(snapshot["pending"])
        self._stats.update(snapshot["stats"])

    def inspect_state(self) -> JournalState:
        stats = self._stats
        return JournalState(
            path=self._settings.path,
            synchronous=self._writer.synchronous(),
            schema_version=self._writer.schema_version(),
            pending=len(self._pending),
            commits=stats["commits"],
            events_written=stats["events_written"],
            duplicates_ignored=stats["duplicates_ignored"],
            largest_batch=stats["largest_batch"],
            write_errors=stats["write_errors"],
            rejected=stats["rejected"],
            fill_conflicts=stats["fill_conflicts"],
        )

    # -- messages --------------------------------------------------------------------------

    def on_receive(self, message: Any) -> None:
        match message:
            case (
                OrderUpdated()
                | OrderFilled()
                | PositionChanged()
                | TradingStateChanged()
                | OrderDenied()
                | DryRunOrder()
                | ReconciliationStarted()
                | ReconciliationCompleted()
                | AccountReconciled()
                | ConfigReloaded()
                | OperatorActed()
                | Halt()
                | ReduceOnly()
                | Resume()
                | StopMoved()
            ):
                self._on_event(message)
            case RecordIntent():
                self._on_record_intent(message)
            case RiskSnapshot():
                self._on_risk_snapshot(message)
            case SyncJournal() | ReadBook() | ReadOrders() | ReadOperatorState() | ReadStops():
                self._on_sync_journal(message)
            case FlushJournal():
                self._on_flush_journal(message)
            case _:
                self.unhandled(message)

    def _absorb(self, message: Any) -> None:
        """Take a message still queued at an orderly stop (a pending flush is moot)."""
        if type(message) is not FlushJournal:
            self.on_receive(message)

    def _on_event(self, message: Any) -> None:
        try:
            prepared = JournalStore.prepare(message)
        except (AttributeError, TypeError, ValueError) as error:
            self._dead_letter("a field does not have its declared type", message, error)
            return
        self._pending.append(prepared)
        if not self._flush_due:
            self._schedule_flush()
        elif len(self._pending) >= self._max_batch and not self._retries.armed:
            self._on_flush_batch()
            self._flush_due = True  # the flush already queued commits what follows

    def _on_record_intent(self, message: RecordIntent) -> None:
        """Commit the intent at once, with what is pending before it, and confirm it: the
        order waits for nothing queued behind it (that goes in the next batch)."""
        if not is_address(message.reply_to):  # its confirmation could not be told
            self._dead_letter("its reply_to is not an address", message)
            return
        if self._retries.armed:  # a batch waits for its retry: the intent joins it
            self._on_event(message)
            return
        try:
            prepared = JournalStore.prepare(message)
        except (AttributeError, TypeError, ValueError) as error:
            self._dead_letter("a field does not have its declared type", message, error)
            return
        self._pending.append(prepared)
        self._commit_pending()

    def _on_risk_snapshot(self, message: RiskSnapshot) -> None:
        if message.at_stop or self._snapshots.keep(message):
            self._on_event(message)

    def _on_sync_journal(self, message: Request) -> None:
        if not is_address(message.reply_to):
            self._dead_letter("its reply_to is not an address", message)
            return
        self._pending.append(Prepared(message))
        if not self._flush_due:
            self._schedule_flush()

    def _on_flush_journal(self, message: FlushJournal) -> None:
        if self._retries.armed and not message.retry:
            # A batch's flush queued before its commit failed: the armed retry commits it.
            return
        self._on_flush_batch()

    def _on_flush_batch(self) -> None:
        self._flush_due = False
        self._commit_pending()

    def _commit_pending(self) -> None:
        if not self._pending:
            return
        batch, self._pending = self._pending, []
        try:
            result = self._writer.write(batch, actor=self.address.path)
        except sqlite3.OperationalError as error:
            self._pending = batch  # nothing arrived meanwhile: one thread
            self._retry_later(error)
            return
        except BaseException:
            self._pending = batch  # the successor gets it (snapshot_state)
            raise
        self._retries.committed()
        self._settle(batch, result)

    # -- writing ---------------------------------------------------------------------------

    def _schedule_flush(self) -> None:
        self._flush_due = True
        self.address.tell(FlushJournal())

    def _settle(self, batch: list[Prepared], result: BatchResult) -> None:
        """After the commit: confirm what it holds, dead-letter what it refused."""
        refused = {id(message) for message, _ in result.rejected}
        for message, error in result.rejected:
            self._dead_letter("the journal refused it", message, error)
        for prepared in batch:
            message = prepared.message
            if type(message) is RecordIntent and id(message) not in refused:
                if message.intent.intent_id in result.conflicting_intents:
                    self._dead_letter("its client order id belongs to another intent", message)
                else:
                    previously = id(message) in result.repeated
                    message.reply_to.tell(
                        intent_recorded(message, self._stamper, previously=previously)
                    )
            elif type(message) in READS:
                message.reply_to.tell(answer_read(message, self._settings.path, self._stamper))
            elif type(message) is SyncJournal:
                message.reply_to.tell(synced(message, self._stamper))

    def _retry_later(self, error: sqlite3.OperationalError) -> None:
        self._stats["write_errors"] += 1
        delay_s = self._retries.delay_after(
            error, journal=self._settings.path, events=len(self._pending), actor=self.address.path
        )
        self._flush_due = True
        self.timers.once(delay_s, FlushJournal(retry=True))

    def _dead_letter(self, reason: str, message: Any, error: BaseException | None = None) -> None:
        self._stats["rejected"] += 1
        self.context.system.dead_letters.record(self.address.path, reason, message, error)


def _ns(seconds: float) -> int:
    return int(seconds * 1e9)
