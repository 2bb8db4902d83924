"""The journal reader's queries for reports (``perpsbot journal``, backtest measures): fills,
positions, PnL, trades and the audit trails, each filtered by time and symbol."""

from __future__ import annotations

from perpsbot.journal._pnl import PnlReport, pnl_from
from perpsbot.journal._read_connection import ReadConnection, filters
from perpsbot.journal._read_shapes import Trade
from perpsbot.journal._rows import (
    AUDIT,
    DENIALS,
    DRY_RUNS,
    FILLS,
    INTENTS,
    POSITIONS,
    STATES,
    TRANSITIONS,
    reconciliation_from_row,
)
from perpsbot.journal._schema import EVENT_TABLES
from perpsbot.messages import (
    DryRunOrder,
    OperatorActed,
    OrderDenied,
    OrderFilled,
    OrderIntent,
    PositionChanged,
    ReconciliationCompleted,
    ReconciliationStarted,
    TradingStateChanged,
)

__all__ = ["ReportQueries"]


class ReportQueries(ReadConnection):
    """The queries reports read; ``since_ns`` filters are wall-clock nanoseconds: fills by
    their venue time (``ts_event_ns``), other records by ``ts_created_ns``."""

    def fills(
        self,
        *,
        since_ns: int | None = None,
        symbol: str | None = None,
        client_order_id: str | None = None,
    ) -> list[OrderFilled]:
        """Fills in the order they were journaled (of one order, with ``client_order_id``)."""
        where, args = filters("ts_event_ns", since_ns, symbol)
        if client_order_id is not None:
            where += " AND client_order_id = ?" if where else " WHERE client_order_id = ?"
            args += (client_order_id,)
        return [
            FILLS.decode(r) for r in self._all(f"SELECT * FROM fills{where} ORDER BY seq", args)
        ]

    def position_changes(self, *, symbol: str | None = None) -> list[PositionChanged]:
        """Every position the portfolio journaled (of one symbol), oldest first."""
        where, args = filters("ts_created_ns", None, symbol)
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
        where, args = filters("ts_created_ns", since_ns, symbol)
        adopted_where, adopted_args = filters(
            "ts_created_ns",
            since_ns,
            symbol,
            "client_order_id NOT IN (SELECT client_order_id FROM intents)",
        )
        symbol_where, symbol_args = filters("ts_created_ns", None, symbol)
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
        where, args = filters("ts_created_ns", since_ns, None)
        rows = self._all(f"SELECT * FROM trading_states{where} ORDER BY seq", args)
        return [STATES.decode(row) for row in rows]

    def denials(
        self, *, since_ns: int | None = None, symbol: str | None = None
    ) -> list[OrderDenied]:
        where, args = filters("ts_created_ns", since_ns, symbol)
        rows = self._all(f"SELECT * FROM denials{where} ORDER BY seq", args)
        return [DENIALS.decode(row) for row in rows]

    def dry_run_orders(
        self, *, since_ns: int | None = None, symbol: str | None = None
    ) -> list[DryRunOrder]:
        """The orders a dry run would have placed, with their full request."""
        where, args = filters("ts_created_ns", since_ns, symbol)
        rows = self._all(f"SELECT * FROM dry_run_orders{where} ORDER BY seq", args)
        return [DRY_RUNS.decode(row) for row in rows]

    def operator_actions(self, *, since_ns: int | None = None) -> list[OperatorActed]:
        """The operator audit: who did what, and how it ended."""
        where, args = filters("ts_created_ns", since_ns, None)
        rows = self._all(f"SELECT * FROM operator_audit{where} ORDER BY seq", args)
        return [AUDIT.decode(row) for row in rows]

    def reconciliations(
        self, *, since_ns: int | None = None
    ) -> list[ReconciliationStarted | ReconciliationCompleted]:
        """Reconciliation passes (starts and ends, with what they corrected)."""
        where, args = filters("ts_created_ns", since_ns, None)
        rows = self._all(f"SELECT * FROM reconciliations{where} ORDER BY seq", args)
        return [reconciliation_from_row(row) for row in rows]

    def counts(self) -> dict[str, int]:
        """Rows per table (events by kind, plus ``orders``)."""
        with self._snapshot():
            return {
                table: self._all(f"SELECT COUNT(*) FROM {table}")[0][0]
                for table in (*EVENT_TABLES, "orders")
            }


def _first(item: tuple[int, str, OrderIntent | None]) -> int:
    return item[0]
