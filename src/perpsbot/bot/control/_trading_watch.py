"""TradingWatch: what risk and the executor publish that their states do not hold.

Each order's sizes and fills, positions with entry, mark and PnL (risk's snapshot), denials,
the last reconciliation: the control plane subscribes to risk and the executor for them, again
whenever one of them starts.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import threading
from pathlib import Path
from typing import Any

import attrs

from perpsbot.errors import ActorNotFoundError, JournalError
from perpsbot.journal import JournalReader
from perpsbot.messages import (
    OrderDenied,
    OrderFilled,
    OrderStatus,
    OrderUpdated,
    ReconciliationCompleted,
    RiskSnapshot,
)
from perpsbot.runtime import ActorSystem, ActorUp, Subscribe, Unsubscribe

__all__ = ["Observed", "TradingWatch"]

logger = logging.getLogger("perpsbot.control")

#: What the watch subscribes to, by the publishing actor's name under the bot's root.
TOPICS: dict[str, tuple[type, ...]] = {
    "risk": (RiskSnapshot, OrderDenied),
    "executor": (OrderUpdated, OrderFilled, OrderDenied, ReconciliationCompleted),
}


@attrs.frozen(kw_only=True)
class Observed:
    """What a :class:`TradingWatch` saw, at one moment."""

    snapshot: RiskSnapshot | None
    """Risk's latest: positions with mark and PnL, realized and unrealized PnL."""
    orders: dict[str, OrderUpdated]
    """Each order's latest transition seen, by client order id (open ones, recent others)."""
    transitions: dict[OrderStatus, int]
    """Orders that reached each status."""
    fills: int
    denials: dict[tuple[str, str], int]
    """Denied intents by (rule, who denied: ``risk`` or ``executor``)."""
    reconciliation: ReconciliationCompleted | None
    """The last reconciliation pass."""
    last_success_ns: int | None
    """When the last successful pass ended (its stamp)."""


class TradingWatch:
    """Subscribes to what risk and the executor publish and keeps what the operator reads.

    It is no actor but a :class:`~perpsbot.runtime.Recipient`: publishers call :meth:`tell`
    on their own thread, and it only files the message under a lock. Its counters start
    when the control plane does (Prometheus handles such resets); open the watch before the
    tree starts to see everything.

    A pass that ended before the subscription reached the executor (its startup
    reconciliation may) is read from the journal instead, until the watch sees one.

    Args:
        system: the bot's actor system.
        root: the path of the bot's supervisor.
        journal_file: the bot's journal (read-only), or None.
        keep_finished: how many finished orders it remembers (open ones are always kept).
    """

    path = "control/trading-watch"

    def __init__(
        self,
        system: ActorSystem,
        root: str,
        *,
        journal_file: Path | None = None,
        keep_finished: int = 200,
    ) -> None:
        self._system = system
        self._root = root
        self._journal_file = journal_file
        self._keep_finished = keep_finished
        self._opened_ns = system.clock.time_ns()
        self._lock = threading.Lock()
        self._snapshot: RiskSnapshot | None = None
        self._orders: collections.OrderedDict[str, OrderUpdated] = collections.OrderedDict()
        self._transitions: collections.Counter[OrderStatus] = collections.Counter()
        self._fills = 0
        self._denials: collections.Counter[tuple[str, str]] = collections.Counter()
        self._reconciliation: ReconciliationCompleted | None = None
        self._last_success_ns: int | None = None

    def open(self) -> None:
        """Watch risk and the executor, and subscribe to those running already; the others
        are subscribed to when they start (the runtime keeps a subscription across restarts:
        subscribing again at a restart changes nothing)."""
        self._opened_ns = self._system.clock.time_ns()
        for name in TOPICS:
            path = f"{self._root}/{name}"
            self._system.watch(path, self)
            with contextlib.suppress(ActorNotFoundError):  # not yet: its ActorUp subscribes
                self._subscribe(path, Subscribe)

    def close(self) -> None:
        for name in TOPICS:
            path = f"{self._root}/{name}"
            self._system.unwatch(path, self)
            with contextlib.suppress(ActorNotFoundError):  # never started: nothing to undo
                self._subscribe(path, Unsubscribe)

    def _subscribe(self, path: str, kind: type[Subscribe] | type[Unsubscribe]) -> None:
        address = self._system.address(path)
        name = path.rsplit("/", 1)[-1]
        for topic in TOPICS[name]:
            address.tell(kind(subscriber=self, topic=topic))

    def tell(self, message: Any) -> None:
        """File one published message (called on the publisher's thread)."""
        if isinstance(message, ActorUp):
            self._subscribe(message.path, Subscribe)
            return
        with self._lock:
            match message:
                case RiskSnapshot():
                    self._snapshot = message
                case OrderUpdated():
                    self._on_order(message)
                case OrderFilled():
                    self._fills += 1
                case OrderDenied():
                    self._denials[(message.rule, message.denied_by)] += 1
                case ReconciliationCompleted():
                    self._on_reconciliation(message)
                case _:
                    pass  # ActorDown: the next ActorUp subscribes again

    def _on_order(self, message: OrderUpdated) -> None:
        if message.status is not message.previous:
            self._transitions[message.status] += 1
        self._orders[message.client_order_id] = message
        self._orders.move_to_end(message.client_order_id)
        finished = [coid for coid, o in self._orders.items() if o.status.terminal]
        for coid in finished[: max(0, len(finished) - self._keep_finished)]:
            del self._orders[coid]

    def _on_reconciliation(self, message: ReconciliationCompleted) -> None:
        self._reconciliation = message
        if message.success:
            self._last_success_ns = message.ts_created_ns

    def _journaled_reconciliations(self) -> list[ReconciliationCompleted]:
        """The passes the journal holds since the watch opened (none without a journal)."""
        if self._journal_file is None:
            return []
        try:
            with JournalReader(self._journal_file) as reader:
                passes = reader.reconciliations(since_ns=self._opened_ns)
        except JournalError as error:  # no journal yet, or not one this perpsbot reads
            logger.debug("no reconciliation from the journal: %s", error)
            return []
        return [p for p in passes if isinstance(p, ReconciliationCompleted)]

    def observed(self) -> Observed:
        """What the watch saw until now."""
        if self._reconciliation is None:
            journaled = self._journaled_reconciliations()  # outside the lock: file I/O
            with self._lock:
                if self._reconciliation is None:
                    for message in journaled:
                        self._on_reconciliation(message)
        with self._lock:
            return Observed(
                snapshot=self._snapshot,
                orders=dict(self._orders),
                transitions=dict(self._transitions),
                fills=self._fills,
                denials=dict(self._denials),
                reconciliation=self._reconciliation,
                last_success_ns=self._last_success_ns,
            )
