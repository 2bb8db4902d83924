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
batch and retries it on a bounded backoff (timer messages: the actor keeps answering pings
and queueing events meanwhile); past the last retry the actor fails with
:class:`~perpsbot.errors.JournalWriteError` and hands the unwritten batch to its successor
(warm restart), whose restarts the supervisor's intensity bounds. A message the database
refuses on its own (a constraint) is left out of its batch and becomes a dead letter.

An orderly stop journals what is still queued before it closes the file. Live config keys:
``journal.synchronous`` and ``journal.risk_snapshot_interval_s``; ``journal.path`` needs a
restart. Give the child a ``journal_mailbox()`` (unbounded: events are never dropped) and a
restart buffer large enough for what arrives while it restarts.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from typing import Any

from perpsbot.actors._journal_state import JournalState
from perpsbot.config import BotConfig, JournalConfig
from perpsbot.errors import JournalWriteError, PerpsbotError
from perpsbot.journal import (
    BatchResult,
    JournalReader,
    JournalStore,
    Prepared,
    RiskSnapshotFilter,
    open_for_writing,
    schema_version,
    set_synchronous,
    synchronous,
)
from perpsbot.messages import (
    AccountReconciled,
    BookRead,
    ConfigReloaded,
    DryRunOrder,
    FlushJournal,
    Halt,
    IntentRecorded,
    JournaledOrder,
    JournalSynced,
    OperatorActed,
    OperatorStateRead,
    OrderDenied,
    OrderFilled,
    OrdersRead,
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
    StopsRead,
    SyncJournal,
    TradingStateChanged,
)
from perpsbot.runtime import ActorContext, BaseActor, ConfigChanged, FifoMailbox

__all__ = ["RETRY_DELAYS_S", "JournalActor", "JournalMailbox", "journal_mailbox"]

logger = logging.getLogger("perpsbot.actors.journal")

_SYNCHRONOUS = {0: "off", 1: "normal", 2: "full", 3: "extra"}

#: Delays before each retry of a batch that hit ``sqlite3.OperationalError`` (about 4 s in all).
RETRY_DELAYS_S = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0)


class JournalMailbox(FifoMailbox):
    """The journal's unbounded FIFO mailbox, whose queue an orderly stop can still journal."""

    def take_queued(self) -> list[Any]:
        """Remove and return the normal lane's items, oldest first (control lane untouched)."""
        items = []
        while (item := self._take_normal()) is not None:
            items.append(item)
        return items


def journal_mailbox() -> JournalMailbox:
    """The journal's mailbox: FIFO, unbounded (nothing told to the journal is dropped)."""
    return JournalMailbox()


class JournalActor(BaseActor):
    """Owns the journal file's only writing connection.

    Args:
        context: from the supervisor; ``context.config`` is the :class:`BotConfig`.
        busy_timeout_s: how long one write waits for a lock another process holds; keep it
            well under the watchdog's timeout.
        retry_delays_s: delays before each retry of a batch that failed to commit.
        max_batch: the most events one transaction holds: a batch that reaches it is
            committed at once, so no commit keeps the actor from its watchdog for long.
    """

    def __init__(
        self,
        *,
        context: ActorContext,
        busy_timeout_s: float = 1.0,
        retry_delays_s: Sequence[float] = RETRY_DELAYS_S,
        max_batch: int = 5_000,
    ) -> None:
        super().__init__(context=context)
        config: BotConfig = context.config
        self._settings: JournalConfig = config.journal
        self._busy_timeout_s = busy_timeout_s
        self._retry_delays_s = tuple(retry_delays_s)
        self._max_batch = max_batch
        self._stamper = Stamper(context.clock, context.ids)
        self._snapshots = RiskSnapshotFilter(_ns(self._settings.risk_snapshot_interval_s))
        self._pending: list[Prepared] = []
        self._flush_due = False
        self._failed_attempts = 0
        self._db: sqlite3.Connection | None = None
        self._store: JournalStore | None = None
        self._stats = {
            "commits": 0,
            "events_written": 0,
            "duplicates_ignored": 0,
            "largest_batch": 0,
            "write_errors": 0,
            "rejected": 0,
            "fill_conflicts": 0,
        }

    # -- lifecycle -------------------------------------------------------------------------

    def on_start(self) -> None:
        self._db = open_for_writing(
            self._settings.path,
            synchronous=self._settings.synchronous.value,
            busy_timeout_s=self._busy_timeout_s,
        )
        self._store = JournalStore(self._db)
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
        if self._pending and self._store is not None:
            batch, self._pending = self._pending, []
            try:
                result = self._write(batch)
            except sqlite3.Error:
                # Kept for a successor (snapshot_state); logged, since the stop goes on.
                self._pending = batch
                logger.exception("%s: %d events unwritten at stop", self.address.path, len(batch))
            else:
                self._settle(batch, result)
        self._close()

    def on_failure(self, *_: object) -> None:
        self._close()

    def on_config_changed(self, message: ConfigChanged) -> None:
        new: JournalConfig = message.config.journal
        if new.synchronous != self._settings.synchronous and self._db is not None:
            set_synchronous(self._db, new.synchronous.value)
        self._snapshots.interval_ns = _ns(new.risk_snapshot_interval_s)
        self._settings = new

    def snapshot_state(self) -> dict[str, Any]:
        return {"pending": list(self._pending), "stats": dict(self._stats)}

    def restore_state(self, snapshot: dict[str, Any]) -> None:
        self._pending = list(snapshot["pending"])
        self._stats.update(snapshot["stats"])

    def inspect_state(self) -> JournalState:
        db, stats = self._db, self._stats
        return JournalState(
            path=self._settings.path,
            synchronous=None if db is None else _SYNCHRONOUS[synchronous(db)],
            schema_version=None if db is None else schema_version(db),
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
                self._on_flush_batch()
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
        elif len(self._pending) >= self._max_batch and not self._failed_attempts:
            self._on_flush_batch()
            self._flush_due = True  # the flush already queued commits what follows

    def _on_record_intent(self, message: RecordIntent) -> None:
        """Commit the intent at once, with what is pending before it, and confirm it: the
        order waits for nothing queued behind it (that goes in the next batch)."""
        if not _is_address(message.reply_to):  # its confirmation could not be told
            self._dead_letter("its reply_to is not an address", message)
            return
        if self._failed_attempts:  # a batch waits for its retry: the intent joins it
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

    def _on_sync_journal(self, message: _Request) -> None:
        if not _is_address(message.reply_to):
            self._dead_letter("its reply_to is not an address", message)
            return
        self._pending.append(Prepared(message))
        if not self._flush_due:
            self._schedule_flush()

    def _on_flush_batch(self) -> None:
        self._flush_due = False
        self._commit_pending()

    def _commit_pending(self) -> None:
        if not self._pending:
            return
        batch, self._pending = self._pending, []
        try:
            result = self._write(batch)
        except sqlite3.OperationalError as error:
            self._pending = batch  # nothing arrived meanwhile: one thread
            self._retry_later(error)
            return
        except BaseException:
            self._pending = batch  # the successor gets it (snapshot_state)
            raise
        self._failed_attempts = 0
        self._settle(batch, result)

    # -- writing ---------------------------------------------------------------------------

    def _schedule_flush(self) -> None:
        self._flush_due = True
        self.address.tell(FlushJournal())

    def _write(self, batch: list[Prepared]) -> BatchResult:
        """Commit ``batch`` (raises with nothing stored, or returns what was stored)."""
        assert self._store is not None
        if not any(prepared.statements for prepared in batch):
            return BatchResult(events=0, ignored=0)  # only syncs: nothing more to commit
        try:
            result = self._store.commit(batch)
        except (sqlite3.IntegrityError, sqlite3.InterfaceError, sqlite3.ProgrammingError):
            # One message the database refuses must not fail the rest: one by one, then.
            result = self._store.commit(batch, one_by_one=True)
        stats = self._stats
        stats["commits"] += 1
        stats["events_written"] += result.events
        conflicts = result.conflicting_fills
        stats["duplicates_ignored"] += result.ignored - len(conflicts)
        stats["fill_conflicts"] += len(conflicts)
        for conflict in conflicts:
            logger.error(
                "%s: integrity error: %s; the stored fill is kept", self.address.path,
                conflict.describe(),
            )  # fmt: skip
        stats["largest_batch"] = max(stats["largest_batch"], result.events)
        return result

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
                    self._acknowledge(message, previously=id(message) in result.repeated)
            elif type(message) in _READS:
                message.reply_to.tell(self._read(message))
            elif type(message) is SyncJournal:
                message_id, ts_created_ns = self._stamper.stamp()
                message.reply_to.tell(
                    JournalSynced(
                        message_id=message_id,
                        ts_created_ns=ts_created_ns,
                        correlation_id=message.message_id,
                    )
                )

    def _read(self, request: _Read) -> Any:
        """The answer to a read, made after the commit that holds everything told before
        it; a journal that cannot be read is answered with the error, never silence."""
        message_id, ts_created_ns = self._stamper.stamp()
        stamp = {
            "message_id": message_id,
            "ts_created_ns": ts_created_ns,
            "correlation_id": request.message_id,
        }
        answer = _READS[type(request)]
        try:
            with JournalReader(self._settings.path) as reader:
                return answer(**stamp, **_read(request, reader))
        except (sqlite3.Error, PerpsbotError, ValueError) as error:
            logger.exception("reading the journal for %s failed", request.reply_to)
            return answer(**stamp, error=f"{type(error).__name__}: {error}")

    def _acknowledge(self, message: RecordIntent, *, previously: bool) -> None:
        message_id, ts_created_ns = self._stamper.stamp()
        message.reply_to.tell(
            IntentRecorded(
                message_id=message_id,
                ts_created_ns=ts_created_ns,
                correlation_id=message.message_id,
                intent_id=message.intent.intent_id,
                client_order_id=message.client_order_id,
                previously_recorded=previously,
            )
        )

    def _retry_later(self, error: sqlite3.OperationalError) -> None:
        self._stats["write_errors"] += 1
        attempt = self._failed_attempts
        self._failed_attempts += 1
        if attempt >= len(self._retry_delays_s):
            raise JournalWriteError(
                f"journal {self._settings.path} must commit {len(self._pending)} events, failed "
                f"{self._failed_attempts} times; last error: {error}"
            ) from error
        delay_s = self._retry_delays_s[attempt]
        logger.warning(
            "%s: commit of %d events failed (%s); retry %d of %d in %.2fs",
            self.address.path,
            len(self._pending),
            error,
            attempt + 1,
            len(self._retry_delays_s),
            delay_s,
        )
        self._flush_due = True
        self.timers.once(delay_s, FlushJournal())

    def _dead_letter(self, reason: str, message: Any, error: BaseException | None = None) -> None:
        self._stats["rejected"] += 1
        self.context.system.dead_letters.record(self.address.path, reason, message, error)

    def _close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
            self._store = None


def _is_address(reply_to: object) -> bool:
    """Whether a reply can be told to ``reply_to`` (messages do not validate it): what
    ``isinstance(reply_to, messages.ReplyTo)`` checks, at a sixtieth of its cost (it is on
    the order path)."""
    return hasattr(reply_to, "tell") and hasattr(reply_to, "path")  # ReplyTo's members


def _ns(seconds: float) -> int:
    return int(seconds * 1e9)


_Read = ReadBook | ReadOrders | ReadOperatorState | ReadStops
_Request = SyncJournal | _Read
_READS: dict[type, type] = {
    ReadBook: BookRead,
    ReadOrders: OrdersRead,
    ReadOperatorState: OperatorStateRead,
    ReadStops: StopsRead,
}


def _read(request: _Read, reader: JournalReader) -> dict[str, Any]:
    """What ``request`` asks for, as the fields of its answer."""
    match request:
        case ReadBook():
            return {
                "events": tuple(reader.book_events()),
                "last_snapshot": reader.last_risk_snapshot(),
            }
        case ReadOrders():
            orders = tuple(
                JournaledOrder(
                    intent=recorded.intent,
                    client_order_id=recorded.client_order_id,
                    order=recorded.order,
                    fills=tuple(reader.fills(client_order_id=recorded.client_order_id)),
                )
                for recorded in reader.unfinished_intents()
            )
            since = request.fills_since_ns
            fill_ids = (
                frozenset() if since is None else frozenset(
                    f.fill_id for f in reader.fills(since_ns=since)
                )
            )  # fmt: skip
            return {
                "orders": orders,
                "issued": reader.issued_client_order_ids(),
                "fill_ids": fill_ids,
            }
        case ReadOperatorState():
            return {"command": reader.last_operator_command()}
        case ReadStops():
            return {"stops": tuple(reader.trailing_stops())}
