"""What risk keeps in the journal so a halt outlives the process, and how it reads it back.

Every operator's Halt, ReduceOnly and Resume is told to the journal, which stores it and
audits it as ``OperatorActed``. The volatility breaker's trip is not stored: it is the
market's verdict, not a person's, and a new process starts with an empty volatility window
that trips it again if, once full, it is still past ``volatility_halt``. The journal also
stores risk's published ``RiskSnapshot``s. At a cold start risk tells the journal
``SyncJournal`` and, once ``JournalSynced`` confirms that everything told before is committed,
opens a read-only reader on the file (the journal's ``JournalReader``) and reads back the last
command and the last snapshot (for the day's PnL so far).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import attrs

from perpsbot.messages import (
    Halt,
    JournalSynced,
    OperatorActed,
    ReduceOnly,
    Resume,
    RiskSnapshot,
    Stamper,
    SyncJournal,
)
from perpsbot.runtime import ActorAddress

OperatorCommand = Halt | ReduceOnly | Resume
ACTIONS: dict[type, str] = {Halt: "halt", ReduceOnly: "reduce_only", Resume: "resume"}


class RiskJournalReader(Protocol):
    """What risk reads from the journal at start (``perpsbot.journal.JournalReader`` has it)."""

    def last_operator_command(self) -> OperatorCommand | None: ...

    def last_risk_snapshot(self) -> RiskSnapshot | None: ...

    def close(self) -> None: ...


@attrs.frozen(kw_only=True)
class Restored:
    """What a previous process left: its last latched command and its last snapshot."""

    command: OperatorCommand | None
    snapshot: RiskSnapshot | None


def read_back(open_reader: Callable[[], RiskJournalReader]) -> Restored:
    reader = open_reader()
    try:
        return Restored(
            command=reader.last_operator_command(), snapshot=reader.last_risk_snapshot()
        )
    finally:
        reader.close()


class OperatorJournal:
    """Risk's side of the journal: persisting latched commands and reading the last one.

    Args:
        journal: the journal actor; None keeps nothing (tests, embedding without a journal).
        open_reader: opens a read-only reader on the journal; None reads nothing.
        stamper: stamps the messages told to the journal.
    """

    def __init__(
        self,
        journal: ActorAddress | None,
        open_reader: Callable[[], RiskJournalReader] | None,
        stamper: Stamper,
    ) -> None:
        self._journal = journal
        self._restore = open_reader
        self._stamper = stamper
        self._sync_id: str | None = None

    @property
    def restores(self) -> bool:
        """True while the last command is still to be read back."""
        return self._journal is not None and self._restore is not None

    def skip_restore(self) -> None:
        """The state came from a predecessor that read the journal already."""
        self._restore = None

    def request_sync(self, reply_to: ActorAddress) -> None:
        if self._journal is None or self._restore is None:
            return
        message_id, ts_created_ns = self._stamper.stamp()
        self._sync_id = message_id
        self._journal.tell(
            SyncJournal(message_id=message_id, ts_created_ns=ts_created_ns, reply_to=reply_to)
        )

    def synced(self, message: JournalSynced) -> Callable[[], RiskJournalReader] | None:
        """How to open the reader, now that ``message`` answered our sync; None if it is not
        ours or the journal was read already."""
        if message.correlation_id != self._sync_id or self._restore is None:
            return None
        self._sync_id = None
        open_reader, self._restore = self._restore, None
        return open_reader

    def persist(self, kind: type[OperatorCommand], reason: str, operator: str) -> None:
        if self._journal is not None:
            message_id, ts_created_ns = self._stamper.stamp()
            self._journal.tell(
                kind(
                    message_id=message_id,
                    ts_created_ns=ts_created_ns,
                    reason=reason,
                    operator=operator,
                )
            )

    def audit(self, command: OperatorCommand, outcome: str) -> None:
        if self._journal is not None:
            message_id, ts_created_ns = self._stamper.stamp()
            self._journal.tell(
                OperatorActed(
                    message_id=message_id,
                    ts_created_ns=ts_created_ns,
                    operator=command.operator,
                    action=ACTIONS[type(command)],
                    detail=command.reason,
                    outcome=outcome,
                )
            )
