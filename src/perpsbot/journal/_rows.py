"""Messages to rows: one table per journaled message class (:mod:`._decode` reads them back).

Each :class:`Table` names its columns (``seq`` excluded: the store assigns it) and turns a
message into a row in that order. Decimals are stored as text and tuples as JSON arrays, so a
message read back equals the one that was written.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs

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
    PositionView,
    ReconciliationCompleted,
    ReconciliationStarted,
    ReduceOnly,
    Resume,
    RiskSnapshot,
    StopMoved,
    TradingStateChanged,
)

__all__ = [
    "COMMANDS",
    "INTENTS",
    "ORDERS_UPSERT",
    "TABLES",
    "OperatorCommand",
    "Row",
    "Table",
    "intent_row",
]

Row = tuple[Any, ...]


@attrs.frozen
class Table:
    """Where one message class is journaled, and how."""

    name: str
    columns: tuple[str, ...]
    encode: Callable[[Any], Row]
    on_conflict_ignore: bool = False
    """A row whose unique key is already stored is skipped (a replayed fill or intent), never
    stored twice."""

    @property
    def insert(self) -> str:
        verb = "INSERT OR IGNORE" if self.on_conflict_ignore else "INSERT"
        marks = ", ".join("?" * (len(self.columns) + 1))
        return f"{verb} INTO {self.name} (seq, {', '.join(self.columns)}) VALUES ({marks})"


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _json(values: tuple[str, ...]) -> str:
    return json.dumps(list(values))


# -- intents (RecordIntent) ------------------------------------------------------------------

_INTENT_COLUMNS = (
    "intent_id", "client_order_id", "message_id", "ts_created_ns", "symbol", "side", "size",
    "order_type", "limit_price", "time_in_force", "post_only", "purpose", "leverage",
    "reference_mark", "reason", "valid_until_ns", "ts_recorded_ns",
)  # fmt: skip


def intent_row(intent: OrderIntent, client_order_id: str, ts_recorded_ns: int) -> Row:
    return (
        intent.intent_id, client_order_id, intent.message_id, intent.ts_created_ns,
        intent.symbol, intent.side.value, str(intent.size), intent.order_type.value,
        _text(intent.limit_price), intent.time_in_force.value, int(intent.post_only),
        intent.purpose.value, _text(intent.leverage), str(intent.reference_mark), intent.reason,
        intent.valid_until_ns, ts_recorded_ns,
    )  # fmt: skip


INTENTS = Table("intents", _INTENT_COLUMNS, encode=lambda m: m, on_conflict_ignore=True)
"""Rows come from :func:`intent_row` (the store adds the time it recorded the intent)."""

# -- orders (OrderUpdated) ---------------------------------------------------------------------

_ORDER_COLUMNS = (
    "message_id", "ts_created_ns", "correlation_id", "client_order_id", "intent_id",
    "venue_order_id", "symbol", "side", "purpose", "order_type", "size", "limit_price",
    "filled_size", "average_fill_price", "previous", "status", "source", "reason",
)  # fmt: skip


def _order_row(m: OrderUpdated) -> Row:
    return (
        m.message_id, m.ts_created_ns, m.correlation_id, m.client_order_id, m.intent_id,
        m.venue_order_id, m.symbol, m.side.value, m.purpose.value, m.order_type.value,
        str(m.size), _text(m.limit_price), str(m.filled_size), _text(m.average_fill_price),
        None if m.previous is None else m.previous.value, m.status.value, m.source.value, m.reason,
    )  # fmt: skip


_ORDER_UPDATES = ", ".join(
    f"{c} = excluded.{c}" for c in ("last_seq", *_ORDER_COLUMNS) if c != "client_order_id"
)
ORDERS_UPSERT = (
    f"INSERT INTO orders (last_seq, {', '.join(_ORDER_COLUMNS)}) "
    f"VALUES ({', '.join('?' * (len(_ORDER_COLUMNS) + 1))}) "
    f"ON CONFLICT (client_order_id) DO UPDATE SET {_ORDER_UPDATES}"
)
"""Keeps each order's latest transition in ``orders``; its rows are a transition's row."""

# -- fills -------------------------------------------------------------------------------------

_FILL_COLUMNS = (
    "fill_id", "message_id", "ts_created_ns", "correlation_id", "intent_id", "client_order_id",
    "venue_order_id", "symbol", "side", "price", "size", "fee", "contract_size", "liquidity",
    "purpose", "ts_event_ns",
)  # fmt: skip


def _fill_row(m: OrderFilled) -> Row:
    return (
        m.fill_id, m.message_id, m.ts_created_ns, m.correlation_id, m.intent_id,
        m.client_order_id, m.venue_order_id, m.symbol, m.side.value, str(m.price), str(m.size),
        str(m.fee), str(m.contract_size), m.liquidity, m.purpose.value, m.ts_event_ns,
    )  # fmt: skip


# -- positions, trading state, operator commands ------------------------------------------------


def _position_row(m: PositionChanged) -> Row:
    p = m.position
    return (
        m.message_id, m.ts_created_ns, m.correlation_id, m.cause, p.symbol, str(p.quantity),
        _text(p.average_entry_price), str(p.contract_size), _text(p.mark), str(p.realized_pnl),
        str(p.unrealized_pnl), str(p.fees), str(p.funding), _text(m.entry_fill_price),
    )  # fmt: skip


def _view_dict(p: PositionView) -> dict[str, str | None]:
    return {
        "symbol": p.symbol,
        "quantity": str(p.quantity),
        "average_entry_price": _text(p.average_entry_price),
        "contract_size": str(p.contract_size),
        "mark": _text(p.mark),
        "realized_pnl": str(p.realized_pnl),
        "unrealized_pnl": str(p.unrealized_pnl),
        "fees": str(p.fees),
        "funding": str(p.funding),
    }


def _state_row(m: TradingStateChanged) -> Row:
    previous = None if m.previous is None else m.previous.value
    return (m.message_id, m.ts_created_ns, m.state.value, previous, m.reason, _json(m.reasons))


OperatorCommand = Halt | ReduceOnly | Resume
COMMANDS: dict[str, type[OperatorCommand]] = {
    "halt": Halt,
    "reduce_only": ReduceOnly,
    "resume": Resume,
}
_COMMAND_NAMES = {kind: name for name, kind in COMMANDS.items()}


def _command_row(m: OperatorCommand) -> Row:
    return (m.message_id, m.ts_created_ns, _COMMAND_NAMES[type(m)], m.reason, m.operator)


# -- the rest: stored for people and reports ---------------------------------------------------


def _snapshot_row(m: RiskSnapshot) -> Row:
    return (
        m.message_id, m.ts_created_ns, m.cycle, m.state.value, _json(m.reasons),
        _text(m.equity), str(m.realized_pnl), str(m.unrealized_pnl), str(m.daily_pnl),
        str(m.exposure), json.dumps([_view_dict(p) for p in m.positions]),
    )  # fmt: skip


def _account_row(m: AccountReconciled) -> Row:
    positions = [
        {
            "symbol": p.symbol,
            "quantity": str(p.quantity),
            "average_entry_price": _text(p.average_entry_price),
            "contract_size": str(p.contract_size),
            "unrealized_pnl": _text(p.unrealized_pnl),
            "accrued_funding": _text(p.accrued_funding),
        }
        for p in m.positions
    ]
    return (
        m.message_id, m.ts_created_ns, _text(m.equity), _text(m.liquidation_buffer_pct),
        int(m.startup), json.dumps(positions),
    )  # fmt: skip


_DENIAL_COLUMNS = (
    "message_id", "ts_created_ns", "correlation_id", "intent_id", "symbol", "rule", "reason",
    "denied_by",
)  # fmt: skip
_DRY_RUN_COLUMNS = (
    "message_id", "ts_created_ns", "correlation_id", "intent_id", "client_order_id", "symbol",
    "request",
)  # fmt: skip
_AUDIT_COLUMNS = ("message_id", "ts_created_ns", "operator", "action", "detail", "outcome")
_RECONCILIATION_COLUMNS = (
    "message_id", "ts_created_ns", "event", "reason", "success", "startup", "corrections", "error",
)  # fmt: skip


def _fields(columns: tuple[str, ...]) -> Callable[[Any], Row]:
    """An encoder for a message whose fields are exactly ``columns``, all plain values."""

    def encode(m: Any) -> Row:
        return tuple(getattr(m, c) for c in columns)

    return encode


def _started_row(m: ReconciliationStarted) -> Row:
    return (m.message_id, m.ts_created_ns, "started", m.reason, None, None, "[]", "")


def _completed_row(m: ReconciliationCompleted) -> Row:
    return (
        m.message_id, m.ts_created_ns, "completed", "", int(m.success), int(m.startup),
        _json(m.corrections), m.error,
    )  # fmt: skip


def _stop_row(m: StopMoved) -> Row:
    return (
        m.message_id, m.ts_created_ns, m.symbol, int(m.long), _text(m.peak),
        _text(m.average_entry),
    )  # fmt: skip


def _reload_row(m: ConfigReloaded) -> Row:
    return (
        m.message_id, m.ts_created_ns, m.source, _json(m.changed_keys), _json(m.restarted),
        _json(m.notified), m.error,
    )  # fmt: skip


_POSITION_COLUMNS = (
    "message_id", "ts_created_ns", "correlation_id", "cause", "symbol", "quantity",
    "average_entry_price", "contract_size", "mark", "realized_pnl", "unrealized_pnl", "fees",
    "funding", "entry_fill_price",
)  # fmt: skip
_SNAPSHOT_COLUMNS = (
    "message_id", "ts_created_ns", "cycle", "state", "reasons", "equity", "realized_pnl",
    "unrealized_pnl", "daily_pnl", "exposure", "positions",
)  # fmt: skip
_STOP_COLUMNS = ("message_id", "ts_created_ns", "symbol", "long", "peak", "average_entry")
_RECONCILIATIONS = Table("reconciliations", _RECONCILIATION_COLUMNS, _completed_row)
_COMMAND_TABLE = Table(
    "operator_commands",
    ("message_id", "ts_created_ns", "command", "reason", "operator"),
    _command_row,
)

#: Every journaled event class (but :class:`RecordIntent`) and its table.
TABLES: dict[type, Table] = {
    OrderUpdated: Table("order_transitions", _ORDER_COLUMNS, _order_row),
    OrderFilled: Table("fills", _FILL_COLUMNS, _fill_row, on_conflict_ignore=True),
    PositionChanged: Table("positions", _POSITION_COLUMNS, _position_row),
    RiskSnapshot: Table("risk_snapshots", _SNAPSHOT_COLUMNS, _snapshot_row),
    TradingStateChanged: Table(
        "trading_states",
        ("message_id", "ts_created_ns", "state", "previous", "reason", "reasons"),
        _state_row,
    ),
    OrderDenied: Table("denials", _DENIAL_COLUMNS, _fields(_DENIAL_COLUMNS)),
    DryRunOrder: Table("dry_run_orders", _DRY_RUN_COLUMNS, _fields(_DRY_RUN_COLUMNS)),
    ReconciliationStarted: attrs.evolve(_RECONCILIATIONS, encode=_started_row),
    ReconciliationCompleted: _RECONCILIATIONS,
    AccountReconciled: Table(
        "accounts",
        ("message_id", "ts_created_ns", "equity", "liquidation_buffer_pct", "startup", "positions"),
        _account_row,
    ),
    Halt: _COMMAND_TABLE,
    ReduceOnly: _COMMAND_TABLE,
    Resume: _COMMAND_TABLE,
    ConfigReloaded: Table(
        "config_reloads",
        ("message_id", "ts_created_ns", "source", "changed_keys", "restarted", "notified", "error"),
        _reload_row,
    ),
    OperatorActed: Table("operator_audit", _AUDIT_COLUMNS, _fields(_AUDIT_COLUMNS)),
    StopMoved: Table("trailing_stops", _STOP_COLUMNS, _stop_row),
}
