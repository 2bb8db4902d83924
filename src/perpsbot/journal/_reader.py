"""JournalReader: the journal's queries, on a read-only connection of their own.

Anyone may read while the journal actor writes (WAL): each query sees the last commit made
before it started; the queries that read several tables read them in one snapshot.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Any

import attrs

from perpsbot.journal._pnl import PnlReport, pnl_from
from perpsbot.journal._rows import (
    ACCOUNTS,
    AUDIT,
    DENIALS,
    DRY_RUNS,
    FILLS,
    INTENTS,
    POSITIONS,
    SNAPSHOTS,
    STATES,
    STOPS,
    TRANSITIONS,
    command_from_row,
    reconciliation_from_row,
)
from perpsbot.journal._schema import EVENT_TABLES, open_read_only, schema_version
from perpsbot.messages import (
    FUNDING_CAUSE,
    RECONCILED_CAUSE,
    AccountReconciled,
    DryRunOrder,
    Halt,
    OperatorActed,
    OrderDenied,
    OrderFilled,
    OrderIntent,
    OrderStatus,
    OrderUpdated,
    PositionChanged,
    ReconciliationCompleted,
    ReconciliationStarted,
    ReduceOnly,
    Resume,
    RiskSnapshot,
    StopMoved,
    TradingStateChanged,
)

__all__ = ["JournalReader", "RecordedIntent", "Trade"]

_TERMINAL = tuple(status.value for status in OrderStatus if status.terminal)
_NOT_TERMINAL = f"NOT IN ({', '.join('?' * len(_TERMINAL))})"


@attrs.frozen(kw_only=True)
class RecordedIntent:
    """An intent as the journal recorded it (write-ahead), with its order's latest state."""

    intent: OrderIntent
    client_order_id: str
    ts_recorded_ns: int
    """When the executor asked to record it (its ``RecordIntent``)."""
    order: OrderUpdated | None
    """The order's latest transition; None if none was journaled (e.g. a crash before)."""

    @property
    def finished(self) -> bool:
        """True once its order reached a terminal state."""
        return self.order is not None and self.order.status.terminal


@attrs.frozen(kw_only=True)
class Trade:
    """One order from intent to fills. ``intent`` is None for an order adopted from the venue."""

    client_order_id: str
    intent: OrderIntent | None
    order: OrderUpdated | None
    fills: tuple[OrderFilled, ...]

    @property
    def filled_size(self) -> Decimal:
        return sum((f.size for f in self.fills), Decimal(0))

    @property
    def fees(self) -> Decimal:
        return sum((f.fee for f in self.fills), Decimal(0))

    @property
    def average_price(self) -> Decimal | None:
        size = self.filled_size
        return sum((f.price * f.size for f in self.fills), Decimal(0)) / size if size else None


class JournalReader:
    """Read-only queries on the journal at ``path`` (``mode=ro``: it never writes or creates).

    A reader belongs to the thread that opened it (an actor opens its own in ``on_start``).
    Close it, or use it as a context manager. ``since_ns`` filters are wall-clock nanoseconds:
    fills by their venue time (``ts_event_ns``), other records (funding booked among them) by
    ``ts_created_ns``.

    Raises:
        JournalNotFoundError: no file at ``path``.
        JournalFormatError: the file is not an SQLite database (not a journal at all).
        JournalSchemaError: the file's schema is not the one this perpsbot reads.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = open_read_only(path)
        self._db.row_factory = sqlite3.Row

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> JournalReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return schema_version(self._db)

    # -- for the executor's startup reconciliation ------------------------------------------

    def unfinished_intents(self) -> list[RecordedIntent]:
        """Intents whose order is not terminal, was never journaled, or ended with fewer fills
        journaled than its filled size, oldest first: what a restarted executor must settle
        with the venue by client order id.

        Finding the last kind sums the fills of every order that ever filled, exactly (SQLite
        has no decimal type): 0.17-0.21 s for 20,000 filled orders on a busy 2-core machine,
        once per executor start.
        """
        with self._snapshot():
            rows = self._all(
                f"""SELECT i.*, o.status IN ({", ".join("?" * len(_TERMINAL))}) AS finished,
                           o.filled_size AS order_filled_size,
                           (SELECT group_concat(f.size, ' ') FROM fills f
                            WHERE f.client_order_id = i.client_order_id) AS fill_sizes
                    FROM intents i
                    LEFT JOIN orders o ON o.client_order_id = i.client_order_id
                    WHERE o.client_order_id IS NULL OR o.status {_NOT_TERMINAL}
                       OR CAST(o.filled_size AS REAL) > 0
                    ORDER BY i.seq""",
                _TERMINAL + _TERMINAL,
            )
            return [self._recorded(row) for row in rows if not row["finished"] or _lags(row)]

    def issued_client_order_ids(self) -> frozenset[str]:
        """The client order id of every intent recorded: the labels the bot issued."""
        return frozenset(row[0] for row in self._all("SELECT client_order_id FROM intents"))

    def open_orders(self) -> list[OrderUpdated]:
        """The latest transition of every order not in a terminal state (adopted ones too)."""
        rows = self._all(
            f"SELECT * FROM orders WHERE status {_NOT_TERMINAL} ORDER BY last_seq", _TERMINAL
        )
        return [TRANSITIONS.decode(row) for row in rows]

    def intent(self, intent_id: str) -> RecordedIntent | None:
        """The recorded intent ``intent_id``, if any."""
        with self._snapshot():
            row = self._one("SELECT * FROM intents WHERE intent_id = ?", (intent_id,))
            return None if row is None else self._recorded(row)

    def order(self, client_order_id: str) -> OrderUpdated | None:
        """The latest transition of order ``client_order_id``, if any."""
        row = self._one("SELECT * FROM orders WHERE client_order_id = ?", (client_order_id,))
        return None if row is None else TRANSITIONS.decode(row)

    def order_history(self, client_order_id: str) -> list[OrderUpdated]:
        """Every journaled transition of order ``client_order_id``, in order."""
        rows = self._all(
            "SELECT * FROM order_transitions WHERE client_order_id = ? ORDER BY seq",
            (client_order_id,),
        )
        return [TRANSITIONS.decode(row) for row in rows]

    def fill_ids(self, client_order_id: str | None = None) -> frozenset[str]:
        """The fill ids journaled (for one order, or all): fills seen before a restart."""
        if client_order_id is None:
            rows = self._all("SELECT fill_id FROM fills")
        else:
            rows = self._all(
                "SELECT fill_id FROM fills WHERE client_order_id = ?", (client_order_id,)
            )
        return frozenset(row[0] for row in rows)

    # -- for risk at start -----------------------------------------------------------------

    def last_operator_command(self) -> Halt | ReduceOnly | Resume | None:
        """The operator's last trading-state command (it holds until the next one)."""
        row = self._one("SELECT * FROM operator_commands ORDER BY seq DESC LIMIT 1")
        return None if row is None else command_from_row(row)

    def last_trading_state(self) -> TradingStateChanged | None:
        """The last trading state risk published."""
        row = self._one("SELECT * FROM trading_states ORDER BY seq DESC LIMIT 1")
        return None if row is None else STATES.decode(row)

    def trailing_stops(self) -> list[StopMoved]:
        """Each symbol's last trailing stop that had not ended, by symbol."""
        rows = self._all(
            """SELECT * FROM trailing_stops WHERE seq IN
               (SELECT MAX(seq) FROM trailing_stops GROUP BY symbol)
               AND peak IS NOT NULL ORDER BY symbol"""
        )
        return [STOPS.decode(row) for row in rows]

    def latest_positions(self) -> dict[str, PositionChanged]:
        """Each symbol's last journaled position (including flat ones), by symbol."""
        rows = self._all(
            """SELECT * FROM positions WHERE seq IN
               (SELECT MAX(seq) FROM positions GROUP BY symbol) ORDER BY symbol"""
        )
        return {row["symbol"]: POSITIONS.decode(row) for row in rows}

    def book_events(self) -> list[OrderFilled | PositionChanged]:
        """What the portfolio's book is rebuilt from, in the order it was journaled: every
        fill, every position the venue's reconciliation corrected and every one that booked
        the venue's funding (the positions stored after fills are not among them: the fills
        are the truth, a lost one changes nothing)."""
        with self._snapshot():
            fills = self._all("SELECT * FROM fills ORDER BY seq")
            corrections = self._all(
                f"""SELECT * FROM positions WHERE cause LIKE '{RECONCILED_CAUSE}%'
                    OR cause LIKE '{FUNDING_CAUSE}%' ORDER BY seq"""
            )
        events: list[tuple[int, OrderFilled | PositionChanged]] = [
            (row["seq"], FILLS.decode(row)) for row in fills
        ]
        events += [(row["seq"], POSITIONS.decode(row)) for row in corrections]
        return [event for _, event in sorted(events, key=lambda item: item[0])]

    def last_risk_snapshot(self) -> RiskSnapshot | None:
        row = self._one("SELECT * FROM risk_snapshots ORDER BY seq DESC LIMIT 1")
        return None if row is None else SNAPSHOTS.decode(row)

    def last_account(self) -> AccountReconciled | None:
        """The venue's account as the last reconciliation saw it."""
        row = self._one("SELECT * FROM accounts ORDER BY seq DESC LIMIT 1")
        return None if row is None else ACCOUNTS.decode(row)

    # -- for reports -----------------------------------------------------------------------

    def fills(
        self,
        *,
        since_ns: int | None = None,
        symbol: str | None = None,
        client_order_id: str | None = None,
    ) -> list[OrderFilled]:
        """Fills in the order they were journaled (of one order, with ``client_order_id``)."""
        where, args = _filters("ts_event_ns", since_ns, symbol)
        if client_order_id is not None:
            where += " AND client_order_id = ?" if where else " WHERE client_order_id = ?"
            args += (client_order_id,)
        return [
            FILLS.decode(r) for r in self._all(f"SELECT * FROM fills{where} ORDER BY seq", args)
        ]

    def position_changes(self, *, symbol: str | None = None) -> list[PositionChanged]:
        """Every position the portfolio journaled (of one symbol), oldest first."""
        where, args = _filters("ts_created_ns", None, symbol)
        rows = self._all(f"SELECT * FROM positions{where} ORDER BY seq", args)
        return [POSITIONS.decode(row) for row in rows]

    def pnl(self, *, since_ns: int | None = None, symbol: str | None = None) -> PnlReport:
        """Realized PnL (average cost, from every fill), fees and funding since ``since_ns``."""
        with self._snapshot():
            return pnl_from(
                self.fills(symbol=symbol),
                self.position_changes(symbol=symbol),
                since_ns=since_ns,
            )

    def trades(self, *, since_ns: int | None = None, symbol: str | None = None) -> list[Trade]:
        """Each order from its intent to its fills, oldest first; ``since_ns`` selects by the
        intent's (or an adopted order's first) journal time."""
        where, args = _filters("ts_created_ns", since_ns, symbol)
        adopted_where, adopted_args = _filters(
            "ts_created_ns",
            since_ns,
            symbol,
            "client_order_id NOT IN (SELECT client_order_id FROM intents)",
        )
        symbol_where, symbol_args = _filters("ts_created_ns", None, symbol)
        with self._snapshot():
            intents = self._all(f"SELECT * FROM intents{where} ORDER BY seq", args)
            adopted = self._all(
                f"""SELECT client_order_id, MIN(seq) AS seq FROM order_transitions
                    {adopted_where} GROUP BY client_order_id""",
                adopted_args,
            )
            orders = self._all(f"SELECT * FROM orders{symbol_where}", symbol_args)
            fills = self._all(f"SELECT * FROM fills{symbol_where} ORDER BY seq", symbol_args)
        latest = {row["client_order_id"]: TRANSITIONS.decode(row) for row in orders}
        fills_of: dict[str, list[OrderFilled]] = {}
        for row in fills:
            fills_of.setdefault(row["client_order_id"], []).append(FILLS.decode(row))
        keyed: list[tuple[int, str, OrderIntent | None]] = [
            (row["seq"], row["client_order_id"], INTENTS.decode(row)) for row in intents
        ]
        keyed += [(row["seq"], row["client_order_id"], None) for row in adopted]
        return [
            Trade(
                client_order_id=cid,
                intent=intent,
                order=latest.get(cid),
                fills=tuple(fills_of.get(cid, ())),
            )
            for _, cid, intent in sorted(keyed, key=_first)
        ]

    def trading_state_changes(self, *, since_ns: int | None = None) -> list[TradingStateChanged]:
        where, args = _filters("ts_created_ns", since_ns, None)
        rows = self._all(f"SELECT * FROM trading_states{where} ORDER BY seq", args)
        return [STATES.decode(row) for row in rows]

    def denials(
        self, *, since_ns: int | None = None, symbol: str | None = None
    ) -> list[OrderDenied]:
        where, args = _filters("ts_created_ns", since_ns, symbol)
        rows = self._all(f"SELECT * FROM denials{where} ORDER BY seq", args)
        return [DENIALS.decode(row) for row in rows]

    def dry_run_orders(
        self, *, since_ns: int | None = None, symbol: str | None = None
    ) -> list[DryRunOrder]:
        """The orders a dry run would have placed, with their full request."""
        where, args = _filters("ts_created_ns", since_ns, symbol)
        rows = self._all(f"SELECT * FROM dry_run_orders{where} ORDER BY seq", args)
        return [DRY_RUNS.decode(row) for row in rows]

    def operator_actions(self, *, since_ns: int | None = None) -> list[OperatorActed]:
        """The operator audit: who did what, and how it ended."""
        where, args = _filters("ts_created_ns", since_ns, None)
        rows = self._all(f"SELECT * FROM operator_audit{where} ORDER BY seq", args)
        return [AUDIT.decode(row) for row in rows]

    def reconciliations(
        self, *, since_ns: int | None = None
    ) -> list[ReconciliationStarted | ReconciliationCompleted]:
        """Reconciliation passes (starts and ends, with what they corrected)."""
        where, args = _filters("ts_created_ns", since_ns, None)
        rows = self._all(f"SELECT * FROM reconciliations{where} ORDER BY seq", args)
        return [reconciliation_from_row(row) for row in rows]

    def counts(self) -> dict[str, int]:
        """Rows per table (events by kind, plus ``orders``)."""
        with self._snapshot():
            return {
                table: self._all(f"SELECT COUNT(*) FROM {table}")[0][0]
                for table in (*EVENT_TABLES, "orders")
            }

    # -- helpers -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def _snapshot(self) -> Iterator[None]:
        """Run several queries on one snapshot of the file (a read transaction)."""
        if self._db.in_transaction:
            yield
            return
        self._db.execute("BEGIN")
        try:
            yield
        finally:
            self._db.execute("COMMIT")

    def _all(self, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        return self._db.execute(sql, args).fetchall()

    def _one(self, sql: str, args: tuple[Any, ...] = ()) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self._db.execute(sql, args).fetchone()
        return row

    def _recorded(self, row: sqlite3.Row) -> RecordedIntent:
        return RecordedIntent(
            intent=INTENTS.decode(row),
            client_order_id=row["client_order_id"],
            ts_recorded_ns=row["ts_recorded_ns"],
            order=self.order(row["client_order_id"]),
        )


def _lags(row: sqlite3.Row) -> bool:
    """Whether the journaled fills of the row's order sum to less than its filled size."""
    sizes = (row["fill_sizes"] or "").split()
    return sum(map(Decimal, sizes), Decimal(0)) < Decimal(row["order_filled_size"])


def _first(item: tuple[int, str, OrderIntent | None]) -> int:
    return item[0]


def _filters(
    time_column: str, since_ns: int | None, symbol: str | None, *more: str
) -> tuple[str, tuple[Any, ...]]:
    """A WHERE clause (or nothing) and its arguments: time, symbol and ``more`` conditions."""
    clauses, args = list(more), list[Any]()
    if since_ns is not None:
        clauses.append(f"{time_column} >= ?")
        args.append(since_ns)
    if symbol is not None:
        clauses.append("symbol = ?")
        args.append(symbol)
    return (f" WHERE {' AND '.join(clauses)}" if clauses else ""), tuple(args)
