from __future__ import annotations

import sqlite3
from decimal import Decimal

import attrs
import pytest

from perpsbot.clock import FakeClock
from perpsbot.journal import FillConflict, JournalReader, JournalStore, RiskSnapshotFilter
from perpsbot.messages import OrderStatus, TradingState
from tests.journal.conftest import Nobody, Writer
from tests.journal.events import Events


def test_every_journaled_event_reads_back_equal_to_the_message_written(
    writer: Writer, events: Events
) -> None:
    intent = events.intent()
    record = events.record(intent, Nobody())
    pending = events.order(intent, OrderStatus.PENDING_SUBMIT)
    fill = events.fill(intent, "fill-1")
    position = events.position()
    state = events.state(TradingState.REDUCING, reasons=("marks stale: BTC-USD",))
    snapshot = events.snapshot(1)
    halt = events.halt()
    denial = events.denial(intent)
    dry_run = events.dry_run(intent)
    funding = events.funding(symbol="ETH-USD")
    started = events.reconciliation_started()
    completed = events.reconciliation_completed()
    account = events.account()

    result = writer.commit(
        record, pending, fill, position, state, snapshot, halt, denial, dry_run, funding,
        started, completed, account, events.reload(), events.audit(),
    )  # fmt: skip

    assert result.events == 15
    with JournalReader(writer.path) as reader:
        recorded = reader.intent(intent.intent_id)
        assert recorded is not None
        assert (recorded.intent, recorded.client_order_id) == (intent, record.client_order_id)
        assert reader.order(record.client_order_id) == pending
        assert reader.fills() == [fill]
        assert reader.latest_positions() == {"BTC-USD": position, "ETH-USD": funding}
        assert reader.last_trading_state() == state
        assert reader.last_risk_snapshot() == snapshot
        assert reader.last_operator_command() == halt
        assert reader.denials() == [denial]
        assert reader.dry_run_orders() == [dry_run]
        assert reader.position_changes(symbol="ETH-USD") == [funding]
        assert reader.reconciliations() == [started, completed]
        assert reader.last_account() == account
        assert reader.counts()["config_reloads"] == reader.counts()["operator_audit"] == 1


def test_a_replayed_fill_is_stored_once_and_its_fee_counted_once(
    writer: Writer, events: Events
) -> None:
    intent = events.intent()
    fill = events.fill(intent, "fill-1", fee="2.50")
    replayed = events.fill(intent, "fill-1", fee="2.50")  # same fill id, a new message

    first = writer.commit(fill, replayed)
    again = writer.commit(attrs.evolve(fill, message_id="late"))

    assert (first.ignored, again.ignored) == (1, 1)
    assert first.conflicting_fills == again.conflicting_fills == ()
    with JournalReader(writer.path) as reader:
        assert reader.fills() == [fill]
        assert reader.pnl().total.fees == Decimal("2.50")


def test_a_fill_whose_id_is_stored_with_other_facts_is_a_conflict_and_the_stored_one_stays(
    writer: Writer, events: Events
) -> None:
    intent = events.intent()
    fill = events.fill(intent, "fill-1", price="50000", fee="2.50")
    writer.commit(fill)

    result = writer.commit(events.fill(intent, "fill-1", price="50010", fee="2.5"))

    (conflict,) = result.conflicting_fills
    assert conflict == FillConflict(fill_id="fill-1", differences=(("price", "50000", "50010"),))
    assert conflict.describe() == (
        "fill fill-1 is journaled with other facts: price 50000 stored, 50010 found"
    )
    with JournalReader(writer.path) as reader:
        assert reader.fills() == [fill]


def test_two_fills_of_one_id_in_one_batch_are_a_conflict_too(
    writer: Writer, events: Events
) -> None:
    first, second = events.intent(), events.intent("BTC-USD:entry:2")
    fill = events.fill(first, "fill-1")
    other = events.fill(second, "fill-1")

    result = writer.commit(fill, other)

    (conflict,) = result.conflicting_fills
    assert [name for name, _, _ in conflict.differences] == ["client_order_id"]
    with JournalReader(writer.path) as reader:
        assert reader.fills() == [fill]


def test_the_book_is_read_back_with_its_fills_corrections_and_funding_in_journaled_order(
    writer: Writer, events: Events
) -> None:
    intent = events.intent()
    fill = events.fill(intent, "fill-1")
    funding = events.funding("-0.42")
    corrected = attrs.evolve(events.position(), cause="reconciled: BTC-USD 0.5 -> 0.6")

    writer.commit(fill, events.position(), corrected, funding)

    with JournalReader(writer.path) as reader:
        assert reader.book_events() == [fill, corrected, funding]
        assert reader.pnl().total.funding == Decimal("-0.42")


def test_recording_the_same_intent_again_is_no_conflict(writer: Writer, events: Events) -> None:
    intent = events.intent()

    writer.commit(events.record(intent, Nobody()))
    result = writer.commit(events.record(intent, Nobody()))

    assert result.ignored == 1
    assert result.conflicting_intents == frozenset()


def test_an_intent_whose_client_order_id_another_intent_holds_is_not_recorded(
    writer: Writer, events: Events
) -> None:
    first = events.record(events.intent("A"), Nobody())
    second = attrs.evolve(
        events.record(events.intent("B"), Nobody()), client_order_id=first.client_order_id
    )

    result = writer.commit(first, second)

    assert result.conflicting_intents == frozenset({"B"})
    with JournalReader(writer.path) as reader:
        assert reader.intent("B") is None


def test_a_batch_that_cannot_commit_stores_nothing_and_commits_whole_later(
    writer: Writer, events: Events
) -> None:
    intent = events.intent()
    batch = [
        JournalStore.prepare(m)
        for m in (events.record(intent, Nobody()), events.fill(intent, "fill-1"))
    ]
    other = sqlite3.connect(writer.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another writer holds the lock

    with pytest.raises(sqlite3.OperationalError, match="locked"):
        writer.store.commit(batch)
    other.execute("COMMIT")
    other.close()
    result = writer.store.commit(batch)

    assert result.events == 2
    with JournalReader(writer.path) as reader:
        assert [t.client_order_id for t in reader.trades()] == [batch[0].message.client_order_id]
        assert len(reader.trades()[0].fills) == 1


def test_one_by_one_leaves_out_only_the_message_the_database_refuses(
    writer: Writer, events: Events
) -> None:
    intent = events.intent()
    broken = attrs.evolve(events.denial(intent), rule=None)  # NOT NULL
    good = events.fill(intent, "fill-1")

    with pytest.raises(sqlite3.IntegrityError):
        writer.commit(broken, good)
    result = writer.commit(broken, good, one_by_one=True)

    assert [message for message, _ in result.rejected] == [broken]
    assert result.events == 1
    with JournalReader(writer.path) as reader:
        assert reader.fills() == [good]
        assert reader.denials() == []


def test_events_keep_their_journal_order_across_tables_and_batches(
    writer: Writer, events: Events
) -> None:
    intent = events.intent()
    updates = [
        events.order(intent, OrderStatus.PENDING_SUBMIT),
        events.order(intent, OrderStatus.SUBMITTED, OrderStatus.PENDING_SUBMIT),
        events.order(intent, OrderStatus.ACKNOWLEDGED, OrderStatus.SUBMITTED),
    ]

    writer.commit(updates[0], events.state(TradingState.ACTIVE), updates[1])
    writer.commit(events.halt(), updates[2])

    with JournalReader(writer.path) as reader:
        assert reader.order_history(updates[0].client_order_id) == updates
        assert reader.order(updates[0].client_order_id) == updates[2]
    seqs = writer.db.execute(
        "SELECT seq FROM order_transitions UNION ALL SELECT seq FROM trading_states "
        "UNION ALL SELECT seq FROM operator_commands ORDER BY seq"
    ).fetchall()
    assert [s for (s,) in seqs] == [1, 2, 3, 4, 5]


def test_a_new_store_continues_the_sequence_of_the_file(writer: Writer, events: Events) -> None:
    writer.commit(events.halt(), events.resume())

    JournalStore(writer.db).commit([JournalStore.prepare(events.reduce_only())])

    rows = writer.db.execute("SELECT seq, command FROM operator_commands ORDER BY seq").fetchall()
    assert rows == [(1, "halt"), (2, "resume"), (3, "reduce_only")]


def test_snapshot_filter_keeps_one_per_interval_and_every_change(clock: FakeClock) -> None:
    events = Events(clock)
    keep = RiskSnapshotFilter(interval_ns=60 * 10**9).keep
    kept = []
    for cycle in range(1, 40):  # one snapshot every 5 s for 195 s
        state = TradingState.REDUCING if cycle in (10, 11) else TradingState.ACTIVE
        if keep(events.snapshot(cycle, state)):
            kept.append(cycle)
        clock.advance(5.0)

    # 1, then each 60 s (12 cycles) after the last kept, and both edges of the REDUCING spell
    assert kept == [1, 10, 12, 24, 36]
