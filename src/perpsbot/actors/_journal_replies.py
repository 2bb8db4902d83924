"""What the journal tells after a commit: an intent's confirmation, a sync's reply and the
answers to the reads, each correlated to its request.

A read is answered from a :class:`~perpsbot.journal.JournalReader` opened after the commit
that holds everything told before it; a journal that cannot be read is answered with the
error, never with silence.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Any

from perpsbot.errors import PerpsbotError
from perpsbot.journal import JournalReader
from perpsbot.messages import (
    BookRead,
    IntentRecorded,
    JournaledOrder,
    JournalSynced,
    OperatorStateRead,
    OrdersRead,
    ReadBook,
    ReadOperatorState,
    ReadOrders,
    ReadStops,
    RecordIntent,
    Stamper,
    StopsRead,
    SyncJournal,
)

__all__ = ["READS", "Read", "Request", "answer_read", "intent_recorded", "is_address", "synced"]

logger = logging.getLogger("perpsbot.actors.journal")

Read = ReadBook | ReadOrders | ReadOperatorState | ReadStops
Request = SyncJournal | Read
#: Each read's answer.
READS: dict[type, type] = {
    ReadBook: BookRead,
    ReadOrders: OrdersRead,
    ReadOperatorState: OperatorStateRead,
    ReadStops: StopsRead,
}


def is_address(reply_to: object) -> bool:
    """Whether a reply can be told to ``reply_to`` (messages do not validate it): what
    ``isinstance(reply_to, messages.ReplyTo)`` checks, at a sixtieth of its cost (it is on
    the order path)."""
    return hasattr(reply_to, "tell") and hasattr(reply_to, "path")  # ReplyTo's members


def intent_recorded(message: RecordIntent, stamper: Stamper, *, previously: bool) -> IntentRecorded:
    """The confirmation of ``message``'s intent, committed now or ``previously``."""
    message_id, ts_created_ns = stamper.stamp()
    return IntentRecorded(
        message_id=message_id,
        ts_created_ns=ts_created_ns,
        correlation_id=message.message_id,
        intent_id=message.intent.intent_id,
        client_order_id=message.client_order_id,
        previously_recorded=previously,
    )


def synced(message: SyncJournal, stamper: Stamper) -> JournalSynced:
    """The reply to ``message``: everything told before it is committed."""
    message_id, ts_created_ns = stamper.stamp()
    return JournalSynced(
        message_id=message_id, ts_created_ns=ts_created_ns, correlation_id=message.message_id
    )


def answer_read(request: Read, journal: Path, stamper: Stamper) -> Any:
    """The answer to a read of the journal at ``journal``, made after the commit that holds
    everything told before it; a journal that cannot be read is answered with the error."""
    message_id, ts_created_ns = stamper.stamp()
    stamp = {
        "message_id": message_id,
        "ts_created_ns": ts_created_ns,
        "correlation_id": request.message_id,
    }
    answer = READS[type(request)]
    try:
        with JournalReader(journal) as reader:
            return answer(**stamp, **_read(request, reader))
    except (sqlite3.Error, PerpsbotError, ValueError) as error:
        logger.exception("reading the journal for %s failed", request.reply_to)
        return answer(**stamp, error=f"{type(error).__name__}: {error}")


def _read(request: Read, reader: JournalReader) -> dict[str, Any]:
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
            issued = reader.issued_venue_order_ids()
            return {
                "orders": orders,
                "issued": frozenset(issued),
                "issued_venue_ids": tuple(
                    sorted((label, venue_id) for label, venue_id in issued.items() if venue_id)
                ),
                "fill_ids": fill_ids,
            }
        case ReadOperatorState():
            return {"command": reader.last_operator_command()}
        case ReadStops():
            return {"stops": tuple(reader.trailing_stops())}
