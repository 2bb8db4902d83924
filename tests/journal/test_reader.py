from __future__ import annotations

import threading
from decimal import Decimal
from pathlib import Path

import attrs

from perpsbot.clock import FakeClock
from perpsbot.ids import client_order_id
from perpsbot.journal import SCHEMA_VERSION, JournalReader
from perpsbot.messages import (
    OrderIntent,
    OrderStatus,
    OrderUpdated,
    Side,
    TradingState,
    TransitionSource,
)
from tests.journal.conftest import Nobody, Writer
from tests.journal.events import Events

S = OrderStatus


def test_unfinished_intents_are_those_without_a_terminal_order_or_their_fills_oldest_first(
    writer: Writer, events: Events
) -> None:
    never_updated, in_flight, filled, cancelled, lagging = (
        events.intent(f"BTC-USD:entry:{n}") for n in range(5)
    )
    writer.commit(*(events.record(i, Nobody()) for i in (never_updated, in_flight, filled)))
    writer.commit(
        events.order(in_flight, S.PENDING_SUBMIT),
        events.order(in_flight, S.SUBMITTED, S.PENDING_SUBMIT),
        events.order(filled, S.SUBMITTED),
        events.order(filled, S.FILLED, S.SUBMITTED, filled="0.5", price="50000"),
        events.fill(filled, "f-1", size="0.2"),
        events.fill(filled, "f-2", size="0.3"),
        events.record(cancelled, Nobody()),
        events.order(cancelled, S.CANCELLED),
        # it filled 0.5 by the venue's word, but only 0.4 of its fills were journaled
        events.record(lagging, Nobody()),
        events.order(lagging, S.FILLED, S.SUBMITTED, filled="0.5", price="50000"),
        events.fill(lagging, "f-3", size="0.4"),
    )

    with JournalReader(writer.path) as reader:
        unfinished = reader.unfinished_intents()

    assert [(u.intent, u.finished) for u in unfinished] == [
        (never_updated, False),
        (in_flight, False),
        (lagging, True),
    ]
    assert unfinished[0].order is None
    assert unfinished[1].order is not None
    assert unfinished[1].order.status is S.SUBMITTED
    assert unfinished[1].client_order_id == client_order_id(in_flight.intent_id)


def test_open_orders_include_adopted_ones_and_exclude_terminal_ones(
    writer: Writer, events: Events
) -> None:
    ours, done = events.intent("ours"), events.intent("done")
    adopted = events.order(
        events.intent("venue"), S.ACKNOWLEDGED, client_order="pb-adopted", filled="0.1"
    )
    writer.commit(
        events.order(ours, S.ACKNOWLEDGED),
        events.order(done, S.REJECTED),
        adopted,
    )

    with JournalReader(writer.path) as reader:
        assert [o.client_order_id for o in reader.open_orders()] == [
            client_order_id("ours"),
            "pb-adopted",
        ]


def test_an_empty_journal_has_no_operator_command_state_or_positions(writer: Writer) -> None:
    with JournalReader(writer.path) as reader:
        assert reader.last_operator_command() is None
        assert reader.last_trading_state() is None
        assert reader.latest_positions() == {}
        assert reader.unfinished_intents() == []
        assert reader.schema_version == SCHEMA_VERSION


def test_the_last_operator_command_is_the_latest_of_halt_reduce_only_and_resume(
    writer: Writer, events: Events
) -> None:
    halt, resume, reduce_only = events.halt(), events.resume(), events.reduce_only()
    writer.commit(halt, events.state(TradingState.HALTED))
    writer.commit(resume)
    writer.commit(reduce_only, events.state(TradingState.REDUCING))

    with JournalReader(writer.path) as reader:
        assert reader.last_operator_command() == reduce_only
        last = reader.last_trading_state()
        assert last is not None
        assert last.state is TradingState.REDUCING


def test_operator_actions_are_the_audit_in_order_and_filter_by_time(
    writer: Writer, events: Events
) -> None:
    first = events.audit()
    events.clock.advance(1)
    second = events.audit()
    writer.commit(first)
    writer.commit(second)

    with JournalReader(writer.path) as reader:
        assert reader.operator_actions() == [first, second]
        assert reader.operator_actions(since_ns=second.ts_created_ns) == [second]


def test_trades_join_each_intent_to_its_order_and_fills_and_filter_by_time_and_symbol(
    clock: FakeClock, writer: Writer, events: Events
) -> None:
    btc = events.intent("btc")
    writer.commit(
        events.record(btc, Nobody()),
        events.order(btc, S.FILLED, filled="0.5", price="50010"),
        events.fill(btc, "f1", price="50000", size="0.2", fee="1"),
        events.fill(btc, "f2", price="50025", size="0.3", fee="1.5"),
    )
    clock.advance(60)
    since = clock.time_ns()
    eth = events.intent("eth", symbol="ETH-USD", side=Side.SELL, size="2")
    writer.commit(events.record(eth, Nobody()), events.order(eth, S.SUBMITTED))

    with JournalReader(writer.path) as reader:
        trades = reader.trades()
        assert [t.intent for t in trades] == [btc, eth]
        assert trades[0].filled_size == Decimal("0.5")
        assert trades[0].average_price == Decimal("50015")
        assert trades[0].fees == Decimal("2.5")
        assert trades[1].fills == ()
        assert trades[1].average_price is None
        assert [t.intent for t in reader.trades(since_ns=since)] == [eth]
        assert [t.intent for t in reader.trades(symbol="BTC-USD")] == [btc]


def test_an_adopted_order_is_a_trade_without_an_intent(writer: Writer, events: Events) -> None:
    ours = events.intent("ours")
    adopted = events.order(events.intent("venue"), S.ACKNOWLEDGED, client_order="pb-adopted")
    writer.commit(events.record(ours, Nobody()), adopted, events.order(ours, S.SUBMITTED))

    with JournalReader(writer.path) as reader:
        trades = reader.trades()

    assert [(t.client_order_id, t.intent) for t in trades] == [
        (client_order_id("ours"), ours),
        ("pb-adopted", None),
    ]


def test_fill_ids_are_those_journaled_for_one_order_or_all(writer: Writer, events: Events) -> None:
    a, b = events.intent("a"), events.intent("b")
    writer.commit(events.fill(a, "f1"), events.fill(b, "f2"), events.fill(a, "f3"))

    with JournalReader(writer.path) as reader:
        assert reader.fill_ids() == {"f1", "f2", "f3"}
        assert reader.fill_ids(client_order_id("a")) == {"f1", "f3"}
        of_a = reader.fills(client_order_id=client_order_id("a"))
        assert [f.fill_id for f in of_a] == ["f1", "f3"]
        assert reader.fills(client_order_id="pb-none", symbol="BTC-USD") == []


def test_a_reader_sees_each_commit_whole_while_the_writer_writes(
    tmp_path: Path, events: Events
) -> None:
    path, batches = tmp_path / "journal.sqlite3", 200
    Writer(path).db.close()
    done, seen_changed = threading.Event(), threading.Condition()
    seen: list[dict[str, int]] = [{"intents": 0}]

    def write() -> None:  # in a thread of its own, like the journal actor
        writer = Writer(path)
        try:
            for n in range(batches):
                intent = events.intent(f"i{n}")
                writer.commit(
                    events.record(intent, Nobody()),
                    events.order(intent, S.PENDING_SUBMIT),
                    events.fill(intent, f"f{n}"),
                )
                if n % 20 == 0:  # wait until the reader saw this commit
                    with seen_changed:
                        seen_changed.wait_for(lambda n=n: seen[-1]["intents"] > n, 5)
        finally:
            writer.db.close()
            done.set()

    thread = threading.Thread(target=write)
    with JournalReader(path) as reader:
        thread.start()
        while not done.is_set():
            counts = reader.counts()
            with seen_changed:
                seen.append(counts)
                seen_changed.notify_all()
        thread.join(10)
        seen.append(reader.counts())
    del seen[0]

    for counts in seen:  # every commit is all or nothing for a reader
        assert counts["intents"] == counts["orders"] == counts["fills"]
    assert seen[-1]["intents"] == batches
    assert len({c["intents"] for c in seen}) > batches // 20  # it read while writes went on


def test_the_labels_issued_leave_out_only_orders_the_journal_shows_never_written(
    writer: Writer, events: Events
) -> None:
    local, rest, reconciliation = (
        TransitionSource.LOCAL,
        TransitionSource.REST,
        (TransitionSource.RECONCILIATION),
    )
    pending, submitted = (S.PENDING_SUBMIT, None, local), (S.SUBMITTED, S.PENDING_SUBMIT, local)
    histories = {
        "recorded only": [],
        "in flight": [pending, submitted],
        "expired from pending": [pending, (S.EXPIRED, S.PENDING_SUBMIT, local)],
        "cancelled from pending by reconciliation": [
            pending, (S.CANCELLED, S.PENDING_SUBMIT, reconciliation)
        ],
        "ended while it waited for the journal": [pending, submitted,
                                                  (S.EXPIRED, S.SUBMITTED, local)],
        "written, answer lost, sent again, ended while it waited": [
            pending, submitted, (S.UNKNOWN, S.SUBMITTED, rest),
            (S.SUBMITTED, S.UNKNOWN, reconciliation), (S.EXPIRED, S.SUBMITTED, local),
        ],
        "rejected by the venue": [pending, submitted, (S.REJECTED, S.SUBMITTED, rest)],
        "killed mid-call, then vanished": [pending, submitted,
                                           (S.EXPIRED, S.SUBMITTED, reconciliation)],
    }  # fmt: skip
    labels = {}
    for name, history in histories.items():
        intent = events.intent(name)
        labels[name] = client_order_id(intent.intent_id)
        writer.commit(
            events.record(intent, Nobody()),
            *(
                attrs.evolve(events.order(intent, status, previous, source=source),
                             venue_order_id=None)
                for status, previous, source in history
            ),
        )  # fmt: skip

    with JournalReader(writer.path) as reader:
        issued = reader.issued_client_order_ids()

    never_written = {
        "expired from pending", "cancelled from pending by reconciliation",
        "ended while it waited for the journal",
    }  # fmt: skip
    assert {name for name, label in labels.items() if label in issued} == (
        set(histories) - never_written
    )


def test_the_labels_issued_come_with_the_venue_order_id_the_journal_holds_for_each(
    writer: Writer, events: Events
) -> None:
    local, rest = TransitionSource.LOCAL, TransitionSource.REST
    finished, lost, dropped, never_sent = (
        events.intent(name) for name in ("finished", "lost", "dropped", "never sent")
    )

    def update(
        intent: OrderIntent,
        status: S,
        previous: S | None,
        venue_id: str | None,
        source: TransitionSource = local,
    ) -> OrderUpdated:
        return attrs.evolve(events.order(intent, status, previous, source=source),
                            venue_order_id=venue_id)  # fmt: skip

    writer.commit(
        *(events.record(i, Nobody()) for i in (finished, lost, dropped, never_sent)),
        # acknowledged as "v-finished", then cancelled: a label a stranger may reuse
        update(finished, S.PENDING_SUBMIT, None, None),
        update(finished, S.SUBMITTED, S.PENDING_SUBMIT, None),
        update(finished, S.ACKNOWLEDGED, S.SUBMITTED, "v-finished", rest),
        update(finished, S.CANCELLED, S.ACKNOWLEDGED, "v-finished", rest),
        # written, its answer lost: the venue's id never reached the journal
        update(lost, S.PENDING_SUBMIT, None, None),
        update(lost, S.SUBMITTED, S.PENDING_SUBMIT, None),
        update(lost, S.UNKNOWN, S.SUBMITTED, None, rest),
        # acknowledged as "v-dropped", then ended by a transition that carries no venue id
        update(dropped, S.PENDING_SUBMIT, None, None),
        update(dropped, S.SUBMITTED, S.PENDING_SUBMIT, None),
        update(dropped, S.ACKNOWLEDGED, S.SUBMITTED, "v-dropped", rest),
        update(dropped, S.EXPIRED, S.ACKNOWLEDGED, None),
        # never written: not issued at all
        update(never_sent, S.PENDING_SUBMIT, None, None),
        update(never_sent, S.EXPIRED, S.PENDING_SUBMIT, None),
    )

    with JournalReader(writer.path) as reader:
        venue_ids = reader.issued_venue_order_ids()
        issued = reader.issued_client_order_ids()

    label = client_order_id
    assert venue_ids == {
        label("finished"): "v-finished",
        label("lost"): None,
        label("dropped"): "v-dropped",
    }
    assert issued == frozenset(venue_ids)
