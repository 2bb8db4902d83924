"""What risk keeps in the journal so a halt outlives the process, and how it reads it back.

Every operator's Halt, ReduceOnly and Resume is told to the journal, which stores it and
audits it as ``OperatorActed``. The volatility breaker's trip is not stored: it is the
market's verdict, not a person's, and a new process starts with an empty volatility window
that trips it again if, once full, it is still past ``volatility_halt``. The journal also
stores risk's published ``RiskSnapshot``s and the one risk makes as it stops (the portfolio
carries the day's PnL from the last one). At a cold start risk asks the journal for the last
command (``ReadOperatorState``), which the journal answers after committing everything told
before.
"""

from __future__ import annotations

from perpsbot.messages import (
    Halt,
    OperatorActed,
    OperatorStateRead,
    ReadOperatorState,
    ReduceOnly,
    Resume,
    RiskSnapshot,
    Stamper,
)
from perpsbot.runtime import ActorAddress

OperatorCommand = Halt | ReduceOnly | Resume
ACTIONS: dict[type, str] = {Halt: "halt", ReduceOnly: "reduce_only", Resume: "resume"}


class OperatorJournal:
    """Risk's side of the journal: persisting latched commands and reading the last one, and
    the day's figures at a stop.

    Args:
        journal: the journal actor; None keeps nothing and reads nothing (tests, embedding
            without a journal).
        stamper: stamps the messages told to the journal.
    """

    def __init__(self, journal: ActorAddress | None, stamper: Stamper) -> None:
        self._journal = journal
        self._stamper = stamper
        self._restore = journal is not None
        self._read_id: str | None = None

    @property
    def restores(self) -> bool:
        """True while the last command is still to be read back."""
        return self._restore

    def skip_restore(self) -> None:
        """The state came from a predecessor that read the journal already."""
        self._restore = False

    def request(self, reply_to: ActorAddress) -> None:
        """Ask the journal for the operator's last command (answered ``OperatorStateRead``)."""
        if self._journal is None or not self._restore:
            return
        message_id, ts_created_ns = self._stamper.stamp()
        self._read_id = message_id
        self._journal.tell(
            ReadOperatorState(message_id=message_id, ts_created_ns=ts_created_ns, reply_to=reply_to)
        )

    def answered(self, message: OperatorStateRead) -> bool:
        """True if ``message`` answers our read (the first answer only)."""
        if message.correlation_id != self._read_id or not self._restore:
            return False
        self._read_id = None
        self._restore = False
        return True

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

    def record(self, snapshot: RiskSnapshot) -> None:
        """Journal ``snapshot`` (the one made at a stop)."""
        if self._journal is not None:
            self._journal.tell(snapshot)

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
