"""The control plane's side of the journal: the operator audit, durable answers, health, metrics.

Operator actions are logged and told to the journal as ``OperatorActed``. An answer that must
outlive the process (an operator's halt) waits for ``SyncJournal``: the journal confirms with
``JournalSynced`` once everything told before it is committed (WAL: a committed transaction
survives a kill of the process).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from perpsbot.actors import JournalState
from perpsbot.control import AuditRecord, Check, StatusSection, log_audit, state_or_none
from perpsbot.errors import ActorNotFoundError, AskTimeoutError
from perpsbot.messages import JournalSynced, OperatorActed, Stamper, SyncJournal
from perpsbot.runtime import ActorSystem

__all__ = [
    "JournalAudit",
    "JournalCollector",
    "journal_committing",
    "journal_section",
    "sync_journal",
]

logger = logging.getLogger("perpsbot.control.journal")


class JournalAudit:
    """The bot's audit sink: a ``perpsbot.audit`` log line, and ``OperatorActed`` told to the
    journal at ``path`` (unless the actor that applied the action journaled it already).

    Without a journal actor (a tree that has none) the log line is the whole record.
    """

    def __init__(self, system: ActorSystem, path: str) -> None:
        self._system = system
        self._path = path
        self._stamper = Stamper(system.clock, system.ids)

    def __call__(self, record: AuditRecord) -> None:
        log_audit(record)
        if record.journaled:
            return
        try:
            journal = self._system.address(self._path)
        except ActorNotFoundError:
            logger.debug("no journal at %s: %s is only logged", self._path, record.action)
            return
        name, _, arguments = record.action.partition("(")
        message_id, ts_created_ns = self._stamper.stamp()
        journal.tell(
            OperatorActed(
                message_id=message_id,
                ts_created_ns=ts_created_ns,
                operator=record.operator,
                action=name,
                detail=arguments.removesuffix(")"),
                outcome=record.outcome,
            )
        )


class _SyncReply:
    """Where the journal tells its ``JournalSynced`` (a reply address outside the actor graph:
    the journal only needs ``path`` and ``tell``)."""

    path = "control/sync"

    def __init__(self, sync_id: str) -> None:
        self._sync_id = sync_id
        self.synced = threading.Event()

    def tell(self, message: Any) -> None:
        if isinstance(message, JournalSynced) and message.correlation_id == self._sync_id:
            self.synced.set()


def sync_journal(system: ActorSystem, path: str, *, timeout_s: float) -> None:
    """Return once everything told to the journal at ``path`` before this call is committed.

    Raises:
        ActorNotFoundError: there is no journal at ``path``.
        AskTimeoutError: the journal did not confirm within ``timeout_s``.
    """
    journal = system.address(path)
    message_id, ts_created_ns = Stamper(system.clock, system.ids).stamp()
    reply = _SyncReply(message_id)
    journal.tell(SyncJournal(message_id=message_id, ts_created_ns=ts_created_ns, reply_to=reply))
    if not reply.synced.wait(timeout_s):
        raise AskTimeoutError(f"{path} did not confirm SyncJournal within {timeout_s}s")


def journal_committing(system: ActorSystem, path: str, *, stalled_after_s: float) -> Check:
    """Liveness: a journal holding events it has not committed commits again within
    ``stalled_after_s`` (it retries a failed commit for a few seconds, then restarts; one that
    stays stuck is reported). Passes while there is no journal."""
    clock = system.clock
    progress: dict[str, Any] = {"commits": None, "since": 0.0}

    def problem() -> str | None:
        state = state_or_none(system, path, JournalState)
        if state is None:
            # No journal in this tree, or it is restarting, or it is stuck on queued work
            # (the progress check reports that one).
            return None
        now = clock.monotonic()
        if state.pending == 0 or state.commits != progress["commits"]:
            progress.update(commits=state.commits, since=now)
            return None
        stalled_s = now - progress["since"]
        if stalled_s <= stalled_after_s:
            return None
        return (
            f"{state.pending} events uncommitted, no commit for {stalled_s:.0f}s"
            f" ({state.write_errors} write errors)"
        )

    return Check(name="journal", problem=problem, liveness=True)


class JournalCollector(Collector):
    """The journal's commits, events written, write errors, fill conflicts and events waiting
    for a commit."""

    def __init__(self, system: ActorSystem, path: str) -> None:
        self._system = system
        self._path = path

    def collect(self) -> Iterator[Metric]:
        state = state_or_none(self._system, self._path, JournalState)
        if state is None:
            return
        yield CounterMetricFamily(
            "perpsbot_journal_commits", "journal transactions committed", value=state.commits
        )
        yield CounterMetricFamily(
            "perpsbot_journal_events_written",
            "events committed to the journal",
            value=state.events_written,
        )
        yield CounterMetricFamily(
            "perpsbot_journal_write_errors",
            "journal commits that failed (each is retried)",
            value=state.write_errors,
        )
        yield CounterMetricFamily(
            "perpsbot_journal_fill_conflicts",
            "fills not journaled because their id is journaled with other facts (integrity"
            " errors, each logged)",
            value=state.fill_conflicts,
        )
        yield GaugeMetricFamily(
            "perpsbot_journal_pending", "events waiting for a commit", value=state.pending
        )


def journal_section(system: ActorSystem, path: str) -> StatusSection:
    """``perpsbot status``: the journal's writes, and its integrity errors (fill conflicts)."""

    def collect() -> dict[str, Any] | None:
        state = state_or_none(system, path, JournalState)
        if state is None:
            return None
        return {
            "path": str(state.path),
            "events_written": state.events_written,
            "duplicates_ignored": state.duplicates_ignored,
            "fill_conflicts": state.fill_conflicts,
            "write_errors": state.write_errors,
            "pending": state.pending,
        }

    def render(data: dict[str, Any]) -> str:
        conflicts = data["fill_conflicts"]
        integrity = (
            f", {conflicts} FILL CONFLICTS (integrity errors: see the log)" if conflicts else ""
        )
        return (
            f"{data['path']}: {data['events_written']} events written,"
            f" {data['duplicates_ignored']} duplicates ignored, {data['write_errors']} write"
            f" errors, {data['pending']} pending{integrity}"
        )

    return StatusSection(name="journal", collect=collect, render=render)
