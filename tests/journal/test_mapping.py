"""One declaration per journaled message drives both directions: every message the store
writes reads back equal through the real schema, and a field can be neither forgotten nor
of a type the journal cannot keep."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from typing import Any

import attrs
import pytest

from perpsbot.journal._mapping import Table
from perpsbot.journal._rows import TABLES, command_from_row, reconciliation_from_row
from perpsbot.messages import (
    AccountReconciled,
    Halt,
    OrderStatus,
    ReconciliationCompleted,
    ReconciliationStarted,
    ReduceOnly,
    Resume,
    StopMoved,
    TradingState,
    VenuePosition,
)
from tests.journal.conftest import Writer
from tests.journal.events import Events


def _read_back(writer: Writer, message: Any) -> Any:
    writer.commit(message)
    table = TABLES[type(message)]
    writer.db.row_factory = sqlite3.Row
    row = writer.db.execute(f"SELECT * FROM {table.name} ORDER BY seq DESC LIMIT 1").fetchone()
    if table.name == "operator_commands":
        return command_from_row(row)
    if table.name == "reconciliations":
        return reconciliation_from_row(row)
    return table.decode(row)


def _journaled(message: Any) -> Any:
    """``message`` as the journal keeps it: its skipped fields at their defaults."""
    fields = {f.name: f for f in attrs.fields(type(message))}
    mapped = {*TABLES[type(message)].columns, "position"}  # position: flattened
    return attrs.evolve(
        message,
        **{name: f.default for name, f in fields.items() if name not in mapped},
    )


def test_every_journaled_message_reads_back_equal_through_the_real_schema(
    writer: Writer, events: Events
) -> None:
    intent = events.intent()
    messages = [
        events.order(intent, OrderStatus.PARTIALLY_FILLED, filled="0.1", price="70000"),
        events.fill(intent, "fill-1"),
        events.position(),
        events.funding(),
        events.state(TradingState.REDUCING, reasons=("drill", "stale marks")),
        events.snapshot(7, reasons=("drill",)),
        events.halt(),
        events.reduce_only(),
        events.resume(),
        events.denial(intent),
        events.dry_run(intent),
        events.reconciliation_started(),
        events.reconciliation_completed(),
        events.account(),
        events.reload(),
        events.audit(),
        StopMoved(
            message_id="s-1", ts_created_ns=1, symbol="BTC-USD", long=True,
            peak=Decimal("70000.5"), average_entry=None,
        ),
    ]  # fmt: skip
    assert {type(m) for m in messages} == set(TABLES), "a journaled class has no case here"
    for message in messages:
        assert _read_back(writer, message) == _journaled(message)


def test_an_account_row_from_before_funding_reads_with_no_accrued_funding(
    writer: Writer, events: Events
) -> None:
    writer.commit(events.account())
    # Rows journaled before funding was: their positions have no accrued_funding key.
    writer.db.execute("UPDATE accounts SET positions = replace(positions, 'accrued_funding', 'x')")
    writer.db.commit()
    writer.db.row_factory = sqlite3.Row
    old = writer.db.execute("SELECT * FROM accounts").fetchone()
    positions = TABLES[AccountReconciled].decode(old).positions
    assert positions
    assert all(p.accrued_funding is None for p in positions)


def test_a_field_left_out_of_the_journal_must_have_a_default() -> None:
    with pytest.raises(TypeError, match=r"VenuePosition\.symbol is not journaled, so it must"):
        Table("venue_positions", VenuePosition, skip=("symbol",))


def test_a_field_of_a_type_the_journal_cannot_keep_is_refused_naming_it() -> None:
    @attrs.frozen
    class Odd:
        when: complex

    with pytest.raises(TypeError, match=r"Odd\.when: a journal column must be of a known type"):
        Table("odd", Odd)


def test_one_table_holds_each_operator_command_and_each_reconciliation_event() -> None:
    assert {TABLES[k].name for k in (Halt, ReduceOnly, Resume)} == {"operator_commands"}
    started, completed = TABLES[ReconciliationStarted], TABLES[ReconciliationCompleted]
    assert started.name == completed.name == "reconciliations"
