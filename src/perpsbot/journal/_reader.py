"""JournalReader: the journal's queries, on a read-only connection of their own.

Anyone may read while the journal actor writes (WAL): each query sees the last commit made
before it started; the queries that read several tables read them in one snapshot.

Here are the queries the actors read at start (the executor's unfinished orders, risk's last
state, the book); the reports' are in ``_report_queries``, the connection they share in
``_read_connection`` and the shapes of their answers in ``_read_shapes``.
"""

from __future__ import annotations

import sqlite3
from decimal import Decimal

from perpsbot.journal._read_shapes import RecordedIntent, Trade
from perpsbot.journal._report_queries import ReportQueries
from perpsbot.journal._rows import (
    ACCOUNTS,
    FILLS,
    INTENTS,
    POSITIONS,
    SNAPSHOTS,
    STATES,
    STOPS,
    TRANSITIONS,
    command_from_row,
)
from perpsbot.messages import (
    FUNDING_CAUSE,
    RECONCILED_CAUSE,
    AccountReconciled,
    Halt,
    OrderFilled,
    OrderStatus,
    OrderUpdated,
    PositionChanged,
    ReduceOnly,
    Resume,
    RiskSnapshot,
    StopMoved,
    TradingStateChanged,
    TransitionSource,
)

__all__ = ["JournalReader", "RecordedIntent", "Trade"]

_TERMINAL = tuple(status.value for status in OrderStatus if status.terminal)
_NOT_TERMINAL = f"NOT IN ({', '.join('?' * len(_TERMINAL))})"


class JournalReader(ReportQueries):
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
        """The client order id of every intent recorded whose order may have reached the
        venue: the labels the bot issued, less those the journal shows were never written (an
        order that ended without a venue id, a fill, the venue's answer to a write or an UNKNOWN,
        from PENDING_SUBMIT, or from its one SUBMITTED that waited for the journal and was
        ended by the executor itself). A stranger's order carrying one of those is never ours.
        One pass over the transitions, however long the journal."""
        return frozenset(self.issued_venue_order_ids())

    def issued_venue_order_ids(self) -> dict[str, str | None]:
        """Each label of :meth:`issued_client_order_ids` with the venue order id the journal
        holds for its order (None: the venue's answer never reached the journal). Where labels
        are not deduplicated, an order under such a label with another venue id is a
        stranger's. One pass over the transitions, however long the journal."""
        terminal = ", ".join("?" * len(_TERMINAL))
        submitted, unknown = OrderStatus.SUBMITTED.value, OrderStatus.UNKNOWN.value
        rows = self._all(
            f"""SELECT i.client_order_id, COALESCE(o.venue_order_id, t.venue_id) AS venue_id
                FROM intents i
                LEFT JOIN orders o ON o.client_order_id = i.client_order_id
                LEFT JOIN (
                    SELECT client_order_id, SUM(status = ?) AS submitted,
                           MAX(status = ? OR (previous = ? AND source = ?)) AS written,
                           MAX(venue_order_id) AS venue_id
                    FROM order_transitions GROUP BY client_order_id
                ) t ON t.client_order_id = i.client_order_id
                WHERE NOT (
                    o.client_order_id IS NOT NULL
                    AND o.status IN ({terminal})
                    AND o.venue_order_id IS NULL
                    AND CAST(o.filled_size AS REAL) = 0
                    AND COALESCE(t.written, 0) = 0
                    AND (COALESCE(t.submitted, 0) = 0 OR (
                        t.submitted = 1 AND COALESCE(o.previous, '') = ? AND o.source = ?)))""",
            (submitted, unknown, submitted, TransitionSource.REST.value, *_TERMINAL, submitted,
             TransitionSource.LOCAL.value),
        )  # fmt: skip
        return {row[0]: row[1] for row in rows}

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
