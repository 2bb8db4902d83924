"""Rows back to messages: the reader's half of :mod:`perpsbot.journal._rows`.

Each ``*_from_row`` rebuilds the message a table's row was written from, equal to it.
"""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal
from typing import Any

from perpsbot.journal._rows import COMMANDS, OperatorCommand
from perpsbot.messages import (
    AccountReconciled,
    DryRunOrder,
    IntentPurpose,
    OperatorActed,
    OrderDenied,
    OrderFilled,
    OrderIntent,
    OrderStatus,
    OrderType,
    OrderUpdated,
    PositionChanged,
    PositionView,
    ReconciliationCompleted,
    ReconciliationStarted,
    RiskSnapshot,
    Side,
    StopMoved,
    TimeInForce,
    TradingState,
    TradingStateChanged,
    TransitionSource,
    VenuePosition,
)

__all__ = [
    "account_from_row",
    "audit_from_row",
    "command_from_row",
    "denial_from_row",
    "dry_run_from_row",
    "fill_from_row",
    "intent_from_row",
    "order_from_row",
    "position_from_row",
    "reconciliation_from_row",
    "snapshot_from_row",
    "state_from_row",
    "stop_from_row",
]


def _plain(row: sqlite3.Row) -> dict[str, Any]:
    """The row's columns but ``seq``, for a message whose fields are exactly those."""
    return {key: row[key] for key in row.keys() if key != "seq"}  # noqa: SIM118 (Row)


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _strings(text: str) -> tuple[str, ...]:
    return tuple(json.loads(text))


def intent_from_row(row: sqlite3.Row) -> OrderIntent:
    return OrderIntent(
        message_id=row["message_id"],
        ts_created_ns=row["ts_created_ns"],
        intent_id=row["intent_id"],
        symbol=row["symbol"],
        side=Side(row["side"]),
        size=Decimal(row["size"]),
        order_type=OrderType(row["order_type"]),
        limit_price=_decimal(row["limit_price"]),
        time_in_force=TimeInForce(row["time_in_force"]),
        post_only=bool(row["post_only"]),
        purpose=IntentPurpose(row["purpose"]),
        leverage=_decimal(row["leverage"]),
        reference_mark=Decimal(row["reference_mark"]),
        reason=row["reason"],
        valid_until_ns=row["valid_until_ns"],
    )


def order_from_row(row: sqlite3.Row) -> OrderUpdated:
    previous = row["previous"]
    return OrderUpdated(
        message_id=row["message_id"],
        ts_created_ns=row["ts_created_ns"],
        correlation_id=row["correlation_id"],
        intent_id=row["intent_id"],
        client_order_id=row["client_order_id"],
        venue_order_id=row["venue_order_id"],
        symbol=row["symbol"],
        side=Side(row["side"]),
        purpose=IntentPurpose(row["purpose"]),
        order_type=OrderType(row["order_type"]),
        size=Decimal(row["size"]),
        limit_price=_decimal(row["limit_price"]),
        filled_size=Decimal(row["filled_size"]),
        average_fill_price=_decimal(row["average_fill_price"]),
        previous=None if previous is None else OrderStatus(previous),
        status=OrderStatus(row["status"]),
        source=TransitionSource(row["source"]),
        reason=row["reason"],
    )


def fill_from_row(row: sqlite3.Row) -> OrderFilled:
    return OrderFilled(
        message_id=row["message_id"],
        ts_created_ns=row["ts_created_ns"],
        correlation_id=row["correlation_id"],
        fill_id=row["fill_id"],
        intent_id=row["intent_id"],
        client_order_id=row["client_order_id"],
        venue_order_id=row["venue_order_id"],
        symbol=row["symbol"],
        side=Side(row["side"]),
        price=Decimal(row["price"]),
        size=Decimal(row["size"]),
        fee=Decimal(row["fee"]),
        contract_size=Decimal(row["contract_size"]),
        liquidity=row["liquidity"],
        ts_event_ns=row["ts_event_ns"],
        purpose=IntentPurpose(row["purpose"]),
    )


def _view(p: dict[str, Any] | sqlite3.Row) -> PositionView:
    return PositionView(
        symbol=p["symbol"],
        quantity=Decimal(p["quantity"]),
        average_entry_price=_decimal(p["average_entry_price"]),
        contract_size=Decimal(p["contract_size"]),
        mark=_decimal(p["mark"]),
        realized_pnl=Decimal(p["realized_pnl"]),
        unrealized_pnl=Decimal(p["unrealized_pnl"]),
        fees=Decimal(p["fees"]),
        funding=Decimal(p["funding"]),
    )


def position_from_row(row: sqlite3.Row) -> PositionChanged:
    return PositionChanged(
        message_id=row["message_id"],
        ts_created_ns=row["ts_created_ns"],
        correlation_id=row["correlation_id"],
        position=_view(row),
        cause=row["cause"],
        entry_fill_price=_decimal(row["entry_fill_price"]),
    )


def state_from_row(row: sqlite3.Row) -> TradingStateChanged:
    previous = row["previous"]
    return TradingStateChanged(
        message_id=row["message_id"],
        ts_created_ns=row["ts_created_ns"],
        state=TradingState(row["state"]),
        previous=None if previous is None else TradingState(previous),
        reason=row["reason"],
        reasons=_strings(row["reasons"]),
    )


def stop_from_row(row: sqlite3.Row) -> StopMoved:
    return StopMoved(
        message_id=row["message_id"],
        ts_created_ns=row["ts_created_ns"],
        symbol=row["symbol"],
        long=bool(row["long"]),
        peak=_decimal(row["peak"]),
        average_entry=_decimal(row["average_entry"]),
    )


def command_from_row(row: sqlite3.Row) -> OperatorCommand:
    return COMMANDS[row["command"]](
        message_id=row["message_id"],
        ts_created_ns=row["ts_created_ns"],
        reason=row["reason"],
        operator=row["operator"],
    )


def snapshot_from_row(row: sqlite3.Row) -> RiskSnapshot:
    return RiskSnapshot(
        message_id=row["message_id"],
        ts_created_ns=row["ts_created_ns"],
        cycle=row["cycle"],
        state=TradingState(row["state"]),
        reasons=_strings(row["reasons"]),
        equity=_decimal(row["equity"]),
        realized_pnl=Decimal(row["realized_pnl"]),
        unrealized_pnl=Decimal(row["unrealized_pnl"]),
        daily_pnl=Decimal(row["daily_pnl"]),
        exposure=Decimal(row["exposure"]),
        positions=tuple(_view(p) for p in json.loads(row["positions"])),
    )


def account_from_row(row: sqlite3.Row) -> AccountReconciled:
    positions = tuple(
        VenuePosition(
            symbol=p["symbol"],
            quantity=Decimal(p["quantity"]),
            average_entry_price=_decimal(p["average_entry_price"]),
            contract_size=Decimal(p["contract_size"]),
            unrealized_pnl=_decimal(p["unrealized_pnl"]),
            accrued_funding=_decimal(p.get("accrued_funding")),  # journaled since funding
        )
        for p in json.loads(row["positions"])
    )
    return AccountReconciled(
        message_id=row["message_id"],
        ts_created_ns=row["ts_created_ns"],
        equity=_decimal(row["equity"]),
        positions=positions,
        liquidation_buffer_pct=_decimal(row["liquidation_buffer_pct"]),
        startup=bool(row["startup"]),
    )


def denial_from_row(row: sqlite3.Row) -> OrderDenied:
    return OrderDenied(**_plain(row))


def audit_from_row(row: sqlite3.Row) -> OperatorActed:
    return OperatorActed(**_plain(row))


def dry_run_from_row(row: sqlite3.Row) -> DryRunOrder:
    return DryRunOrder(**_plain(row))


def reconciliation_from_row(row: sqlite3.Row) -> ReconciliationStarted | ReconciliationCompleted:
    if row["event"] == "started":
        return ReconciliationStarted(
            message_id=row["message_id"], ts_created_ns=row["ts_created_ns"], reason=row["reason"]
        )
    return ReconciliationCompleted(
        message_id=row["message_id"],
        ts_created_ns=row["ts_created_ns"],
        success=bool(row["success"]),
        startup=bool(row["startup"]),
        corrections=_strings(row["corrections"]),
        error=row["error"],
    )
