"""The journal's tables: one declaration per journaled message class (:mod:`._mapping` turns
it into the store's rows and the reader's messages).

Each table holds one message class, every field a column of the same name but those
skipped (written by no one, read with their default). Decimals are stored as text and tuples
as JSON arrays, so a message read back equals the one that was written.
"""

from __future__ import annotations

from typing import Any

from perpsbot.journal._mapping import Row, Table
from perpsbot.messages import (
    AccountReconciled,
    ConfigReloaded,
    DryRunOrder,
    Halt,
    OperatorActed,
    OrderDenied,
    OrderFilled,
    OrderIntent,
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

__all__ = [
    "ACCOUNTS",
    "AUDIT",
    "COMMANDS",
    "DENIALS",
    "DRY_RUNS",
    "FILLS",
    "INTENTS",
    "ORDERS_UPSERT",
    "POSITIONS",
    "RECONCILIATIONS",
    "RELOADS",
    "SNAPSHOTS",
    "STATES",
    "STOPS",
    "TABLES",
    "TRANSITIONS",
    "OperatorCommand",
    "Row",
    "Table",
    "command_from_row",
    "reconciliation_from_row",
]

INTENTS: Table[OrderIntent] = Table(
    "intents", OrderIntent, extra=("client_order_id", "ts_recorded_ns"), on_conflict_ignore=True
)
"""Each intent once, with the client order id it goes out as and when the store took it."""

TRANSITIONS: Table[OrderUpdated] = Table(
    "order_transitions", OrderUpdated, skip=("booked_size",)
)  # what was booked is the portfolio's: its fills and positions are journaled
_ORDER_UPDATES = ", ".join(
    f"{c} = excluded.{c}" for c in ("last_seq", *TRANSITIONS.columns) if c != "client_order_id"
)
ORDERS_UPSERT = (
    f"INSERT INTO orders (last_seq, {', '.join(TRANSITIONS.columns)}) "
    f"VALUES ({', '.join('?' * (len(TRANSITIONS.columns) + 1))}) "
    f"ON CONFLICT (client_order_id) DO UPDATE SET {_ORDER_UPDATES}"
)
"""Keeps each order's latest transition in ``orders``; its rows are a transition's row."""

OperatorCommand = Halt | ReduceOnly | Resume
COMMANDS: dict[str, type[OperatorCommand]] = {
    "halt": Halt,
    "reduce_only": ReduceOnly,
    "resume": Resume,
}
_COMMAND_TABLES: dict[str, Table[Any]] = {
    name: Table("operator_commands", kind, constants={"command": name})
    for name, kind in COMMANDS.items()
}


def command_from_row(row: Any) -> OperatorCommand:
    """The operator's command an ``operator_commands`` row holds."""
    decoded: OperatorCommand = _COMMAND_TABLES[row["command"]].decode(row)
    return decoded


_STARTED: Table[ReconciliationStarted] = Table(
    "reconciliations",
    ReconciliationStarted,
    constants={"event": "started", "success": None, "startup": None, "corrections": "[]",
               "error": ""},
)  # fmt: skip
RECONCILIATIONS: Table[ReconciliationCompleted] = Table(
    "reconciliations", ReconciliationCompleted, constants={"event": "completed", "reason": ""}
)


def reconciliation_from_row(row: Any) -> ReconciliationStarted | ReconciliationCompleted:
    """The start or the end of a reconciliation a ``reconciliations`` row holds."""
    return (_STARTED if row["event"] == "started" else RECONCILIATIONS).decode(row)


FILLS: Table[OrderFilled] = Table("fills", OrderFilled, on_conflict_ignore=True)
POSITIONS: Table[PositionChanged] = Table(
    "positions", PositionChanged, flatten="position", skip=("booked",)
)  # what a change booked is in its fills
SNAPSHOTS: Table[RiskSnapshot] = Table("risk_snapshots", RiskSnapshot, skip=("starting", "at_stop"))
STATES: Table[TradingStateChanged] = Table(
    "trading_states", TradingStateChanged, skip=("stops_everything", "starting")
)  # how a change is announced, not a fact kept
DENIALS: Table[OrderDenied] = Table("denials", OrderDenied)
DRY_RUNS: Table[DryRunOrder] = Table("dry_run_orders", DryRunOrder)
ACCOUNTS: Table[AccountReconciled] = Table(
    "accounts", AccountReconciled, skip=("spot_wallets", "unsettled", "futures", "fills")
)  # the positions and equity the venue showed; the rest is read again each time, and the
# swept fills the portfolio books are journaled as the fills table's own
RELOADS: Table[ConfigReloaded] = Table("config_reloads", ConfigReloaded)
AUDIT: Table[OperatorActed] = Table("operator_audit", OperatorActed)
STOPS: Table[StopMoved] = Table("trailing_stops", StopMoved)

#: Every journaled event class (but the intents) and its table.
TABLES: dict[type, Table[Any]] = {
    OrderUpdated: TRANSITIONS,
    OrderFilled: FILLS,
    PositionChanged: POSITIONS,
    RiskSnapshot: SNAPSHOTS,
    TradingStateChanged: STATES,
    OrderDenied: DENIALS,
    DryRunOrder: DRY_RUNS,
    ReconciliationStarted: _STARTED,
    ReconciliationCompleted: RECONCILIATIONS,
    AccountReconciled: ACCOUNTS,
    Halt: _COMMAND_TABLES["halt"],
    ReduceOnly: _COMMAND_TABLES["reduce_only"],
    Resume: _COMMAND_TABLES["resume"],
    ConfigReloaded: RELOADS,
    OperatorActed: AUDIT,
    StopMoved: STOPS,
}
