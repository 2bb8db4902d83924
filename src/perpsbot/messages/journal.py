"""Journal messages: the write-ahead handshake, syncs, and records only the journal stores.

The journal actor also stores the events other actors publish (order updates, fills, trading
state changes, denials, positions); those are defined in their own modules.
"""

from __future__ import annotations

import attrs

from perpsbot.messages._base import ReplyTo
from perpsbot.messages.orders import OrderFilled, OrderIntent, OrderUpdated
from perpsbot.messages.risk import Halt, ReduceOnly, Resume

__all__ = [
    "ConfigReloaded",
    "FlushJournal",
    "IntentRecorded",
    "JournalSynced",
    "JournaledOrder",
    "OperatorActed",
    "OperatorStateRead",
    "OrdersRead",
    "ReadOperatorState",
    "ReadOrders",
    "RecordIntent",
    "SyncJournal",
    "SyncTimedOut",
]


@attrs.frozen(kw_only=True)
class RecordIntent:
    """Write-ahead: store ``intent`` with the client order id it will be sent under; the
    journal tells ``reply_to`` :class:`IntentRecorded` once the record is committed."""

    message_id: str
    ts_created_ns: int
    intent: OrderIntent
    client_order_id: str
    reply_to: ReplyTo = attrs.field(eq=False)


@attrs.frozen(kw_only=True)
class IntentRecorded:
    """The intent is durable (committed); the executor may now send it.

    ``previously_recorded`` is True when the journal already held this intent (from an earlier
    run): the executor then never sends it again, since its order exists or existed already.
    """

    message_id: str
    ts_created_ns: int
    correlation_id: str
    intent_id: str
    client_order_id: str
    previously_recorded: bool = False


@attrs.frozen(kw_only=True)
class SyncJournal:
    """Commit everything told before this message, then tell ``reply_to`` JournalSynced."""

    message_id: str
    ts_created_ns: int
    reply_to: ReplyTo = attrs.field(eq=False)


@attrs.frozen(kw_only=True)
class JournalSynced:
    message_id: str
    ts_created_ns: int
    correlation_id: str


@attrs.frozen(kw_only=True)
class ConfigReloaded:
    """A configuration reload was applied (or rejected, with ``error``)."""

    message_id: str
    ts_created_ns: int
    source: str
    changed_keys: tuple[str, ...]
    restarted: tuple[str, ...]
    notified: tuple[str, ...]
    error: str = ""


@attrs.frozen(kw_only=True)
class OperatorActed:
    """An operator action for the audit trail (who, what, the outcome); never holds secrets."""

    message_id: str
    ts_created_ns: int
    operator: str
    action: str
    detail: str
    outcome: str


@attrs.frozen(kw_only=True)
class SyncTimedOut:
    """The executor's own timer: the journal did not answer the startup's ``SyncJournal``
    (``message_id`` ``sync_id``) in time."""

    sync_id: str


@attrs.frozen(kw_only=True)
class FlushJournal:
    """The journal's own message: commit the pending batch (told to itself when a batch opens,
    so it lands behind everything already queued, or by a retry timer: ``retry``).

    While a retry is armed, a batch's flush commits nothing: the retry commits the batch on
    its own schedule, so one failing batch has one retry chain."""

    retry: bool = False


@attrs.frozen(kw_only=True)
class JournaledOrder:
    """An intent the journal recorded (write-ahead) whose order is unfinished: no terminal
    transition, or fewer fills journaled than its filled size; with its last transition (None
    if it had none) and its journaled fills."""

    intent: OrderIntent
    client_order_id: str
    order: OrderUpdated | None
    fills: tuple[OrderFilled, ...] = ()


@attrs.frozen(kw_only=True)
class ReadOrders:
    """Commit everything told before this message, then tell ``reply_to`` :class:`OrdersRead`
    with the journal's unfinished orders (the executor's startup reconciliation), the client
    order ids it ever issued, and the ids of the fills it holds since ``fills_since_ns``."""

    message_id: str
    ts_created_ns: int
    reply_to: ReplyTo = attrs.field(eq=False)
    fills_since_ns: int | None = None
    """Where the fills sweep's window starts (None: no fill ids)."""


@attrs.frozen(kw_only=True)
class OrdersRead:
    """The answer to :class:`ReadOrders`, oldest first; ``error`` says why the journal could
    not be read (then ``orders`` is empty)."""

    message_id: str
    ts_created_ns: int
    correlation_id: str
    orders: tuple[JournaledOrder, ...] = ()
    error: str = ""
    issued: frozenset[str] = frozenset()
    """The client order id of every intent the journal recorded: the labels the bot issued
    (on a venue that does not deduplicate them, an order of our prefix carrying another is
    a stranger's)."""
    issued_venue_ids: tuple[tuple[str, str], ...] = ()
    """``(label, venue order id)`` for each label of ``issued`` whose venue order id the
    journal holds (a label left out: the venue's answer never reached the journal). Where
    labels are not deduplicated, an order under such a label with another venue id is a
    stranger's."""
    fill_ids: frozenset[str] = frozenset()
    """The fills the journal holds since ``ReadOrders.fills_since_ns``: booked already, not
    looked up again by the sweep."""


@attrs.frozen(kw_only=True)
class ReadOperatorState:
    """Commit everything told before this message, then tell ``reply_to``
    :class:`OperatorStateRead` with the operator's last Halt, ReduceOnly or Resume."""

    message_id: str
    ts_created_ns: int
    reply_to: ReplyTo = attrs.field(eq=False)


@attrs.frozen(kw_only=True)
class OperatorStateRead:
    """The answer to :class:`ReadOperatorState`: the last command (None if there was none);
    ``error`` says why the journal could not be read."""

    message_id: str
    ts_created_ns: int
    correlation_id: str
    command: Halt | ReduceOnly | Resume | None = None
    error: str = ""
