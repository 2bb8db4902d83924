from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from perpsbot.bot._sections import bot_sections
from perpsbot.clock import FakeClock
from perpsbot.config import Synchronous
from perpsbot.ids import SequentialIds
from perpsbot.messages import IntentRecorded, OrderStatus, Side, TradingState
from perpsbot.runtime import ActorSystem
from perpsbot.runtime.testing import Probe, eventually
from tests.actors.journal.journal_tree import (
    JOURNAL,
    journal_config,
    read,
    recorded,
    start_journal,
    synced,
    with_synchronous,
)
from tests.journal.events import Events
from tests.runtime.conftest import Block


@pytest.fixture
def system(clock: FakeClock) -> Iterator[ActorSystem]:
    system = ActorSystem(
        "test",
        clock=clock,
        ids=SequentialIds("msg"),
        sections_of=bot_sections,
        watchdog_interval_s=None,
    )
    yield system
    system.shutdown()


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "var" / "dev" / "journal.sqlite3"


@pytest.fixture
def events(clock: FakeClock) -> Events:
    return Events(clock)


def _sync(system: ActorSystem, probe: Probe, events: Events) -> None:
    """Tell SyncJournal and wait for its reply: everything told before is committed."""
    sync = events.sync(system.address("bot/executor"))
    system.address(JOURNAL).tell(sync)
    probe.wait_for(lambda _: sync.message_id in synced(probe), what="JournalSynced")


def test_a_queued_burst_of_events_is_written_in_one_commit(
    system: ActorSystem, probe: Probe, events: Events, path: Path
) -> None:
    start_journal(system, probe, journal_config(path))
    journal = system.address(JOURNAL)
    block = Block(release=threading.Event())
    journal.tell(block)
    block.entered.wait(5)
    intent = events.intent()
    burst = [events.fill(intent, f"fill-{n}", size="0.001") for n in range(500)]
    for fill in burst:
        journal.tell(fill)
    sync = events.sync(system.address("bot/executor"))
    journal.tell(sync)

    block.release.set()
    probe.wait_for(lambda _: sync.message_id in synced(probe), what="JournalSynced")

    state = system.state(JOURNAL)
    assert (state.commits, state.events_written, state.largest_batch) == (1, 500, 500)
    with read(path) as reader:
        assert reader.fills() == burst


def test_a_batch_reaching_max_batch_is_committed_at_once(
    system: ActorSystem, probe: Probe, events: Events, path: Path
) -> None:
    start_journal(system, probe, journal_config(path), max_batch=50)
    journal = system.address(JOURNAL)
    block = Block(release=threading.Event())
    journal.tell(block)
    block.entered.wait(5)
    intent = events.intent()
    for n in range(120):
        journal.tell(events.fill(intent, f"fill-{n}", size="0.001"))
    block.release.set()

    _sync(system, probe, events)

    state = system.state(JOURNAL)
    assert (state.commits, state.events_written, state.largest_batch) == (3, 120, 50)


def test_a_lone_intent_is_committed_and_acknowledged_without_waiting_for_company(
    system: ActorSystem, probe: Probe, events: Events, path: Path
) -> None:
    start_journal(system, probe, journal_config(path))
    intent = events.intent()

    system.address(JOURNAL).tell(events.record(intent, system.address("bot/executor")))

    (reply,) = probe.wait_for(lambda e: recorded(probe) == [intent.intent_id])
    assert isinstance(reply, IntentRecorded)
    with read(path) as reader:
        assert reader.intent(intent.intent_id) is not None
    assert system.state(JOURNAL).commits == 1


def test_intent_recorded_correlates_to_its_record_intent(
    system: ActorSystem, probe: Probe, events: Events, path: Path
) -> None:
    start_journal(system, probe, journal_config(path))
    record = events.record(events.intent(), system.address("bot/executor"))

    system.address(JOURNAL).tell(record)

    (reply,) = probe.wait_for(lambda e: len(e) == 1)
    assert (reply.correlation_id, reply.intent_id, reply.client_order_id) == (
        record.message_id,
        record.intent.intent_id,
        record.client_order_id,
    )


def test_sync_journal_replies_once_everything_told_before_it_is_committed(
    system: ActorSystem, probe: Probe, events: Events, path: Path
) -> None:
    start_journal(system, probe, journal_config(path))
    journal = system.address(JOURNAL)
    intent = events.intent()
    told = [
        events.order(intent, OrderStatus.PENDING_SUBMIT),
        events.state(TradingState.HALTED),
        events.halt(),
        events.position(),
        events.funding(),
    ]
    for event in told:
        journal.tell(event)

    _sync(system, probe, events)

    with read(path) as reader:
        assert sum(reader.counts().values()) == len(told) + 1  # + the orders row


def test_risk_snapshots_are_journaled_once_per_interval_and_on_every_state_change(
    system: ActorSystem, probe: Probe, clock: FakeClock, events: Events, path: Path
) -> None:
    start_journal(system, probe, journal_config(path, risk_snapshot_interval_s=60.0))
    journal = system.address(JOURNAL)
    for cycle in range(1, 61):  # one every 5 s for 5 minutes, halted for cycles 30 and 31
        state = TradingState.HALTED if cycle in (30, 31) else TradingState.ACTIVE
        journal.tell(events.snapshot(cycle, state))
        clock.advance(5.0)

    _sync(system, probe, events)

    with read(path) as reader:
        assert reader.counts()["risk_snapshots"] == 7  # cycles 1, 13, 25, 30, 32, 44, 56


def test_an_unknown_message_is_a_dead_letter(
    system: ActorSystem, probe: Probe, events: Events, path: Path
) -> None:
    start_journal(system, probe, journal_config(path))

    system.address(JOURNAL).tell("not a message")

    eventually(lambda: system.dead_letters.count(JOURNAL) == 1)
    (letter,) = system.dead_letters.recent()
    assert (letter.message, letter.reason) == ("not a message", "no handler for str")


def test_a_malformed_event_is_a_dead_letter_and_the_rest_is_committed(
    system: ActorSystem, probe: Probe, events: Events, path: Path
) -> None:
    start_journal(system, probe, journal_config(path))
    journal = system.address(JOURNAL)
    intent = events.intent()
    wrong_type = attrs.evolve(events.fill(intent, "f1"), side="BUY")  # a str, not a Side
    refused = attrs.evolve(events.denial(intent), rule=None)  # NOT NULL in the database
    record = events.record(intent, system.address("bot/executor"))
    good = events.fill(intent, "f2", side=Side.SELL)
    block = Block(release=threading.Event())
    journal.tell(block)
    block.entered.wait(5)
    for message in (wrong_type, refused, record, good):
        journal.tell(message)
    block.release.set()

    _sync(system, probe, events)

    assert recorded(probe) == [intent.intent_id]
    with read(path) as reader:
        assert reader.fills() == [good]
        assert reader.denials() == []
    letters = {(type(d.message).__name__, d.reason) for d in system.dead_letters.recent()}
    assert letters == {
        ("OrderFilled", "a field does not have its declared type"),
        ("OrderDenied", "the journal refused it"),
    }
    assert system.state(JOURNAL).rejected == 2


def test_an_orderly_stop_journals_what_is_still_queued_and_leaves_no_dead_letter(
    system: ActorSystem, probe: Probe, events: Events, path: Path
) -> None:
    start_journal(system, probe, journal_config(path))
    journal = system.address(JOURNAL)
    block = Block(release=threading.Event())
    journal.tell(block)
    block.entered.wait(5)
    queued = [events.position(quantity=str(n)) for n in range(1, 51)]
    for event in queued:
        journal.tell(event)
    stopping = threading.Thread(target=system.shutdown)
    stopping.start()
    # The stop travels on the control lane, ahead of the 50 queued events.
    eventually(lambda: system.inspect().find(JOURNAL).mailbox_depth == len(queued) + 1)

    block.release.set()
    stopping.join(10)

    with read(path) as reader:
        assert reader.counts()["positions"] == len(queued)
        assert reader.latest_positions()["BTC-USD"] == queued[-1]
    # The stop commits what it took itself: no flush is told to the closing mailbox.
    assert system.dead_letters.recent() == ()


def test_synchronous_follows_a_config_reload_without_a_restart(
    system: ActorSystem, probe: Probe, path: Path
) -> None:
    config = journal_config(path)
    start_journal(system, probe, config)
    assert system.state(JOURNAL).synchronous == "normal"

    system.reload(with_synchronous(config, Synchronous.FULL))

    assert system.state(JOURNAL).synchronous == "full"
    assert system.address(JOURNAL).incarnation == 1


def test_a_disposable_journal_is_never_synced_whatever_the_config_says(
    system: ActorSystem, probe: Probe, path: Path
) -> None:
    config = with_synchronous(journal_config(path), Synchronous.FULL)
    start_journal(system, probe, config, disposable=True)
    assert system.state(JOURNAL).synchronous == "off"

    system.reload(with_synchronous(config, Synchronous.NORMAL))

    assert system.state(JOURNAL).synchronous == "off"


def test_a_record_intent_without_a_reply_address_is_a_dead_letter_not_a_crash(
    system: ActorSystem, probe: Probe, events: Events, path: Path
) -> None:
    start_journal(system, probe, journal_config(path))
    journal = system.address(JOURNAL)
    orphan = events.record(events.intent("orphan"), reply_to=None)  # type: ignore[arg-type]
    intent = events.intent("ours")

    journal.tell(orphan)
    journal.tell(events.record(intent, system.address("bot/executor")))

    probe.wait_for(lambda _: recorded(probe) == ["ours"], what="IntentRecorded")
    (letter,) = system.dead_letters.recent()
    assert (letter.message, letter.reason) == (orphan, "its reply_to is not an address")
    assert journal.incarnation == 1
    with read(path) as reader:
        assert reader.intent("orphan") is None


def test_an_intent_recorded_again_is_acknowledged_as_previously_recorded(
    system: ActorSystem, probe: Probe, events: Events, path: Path
) -> None:
    start_journal(system, probe, journal_config(path))
    journal, executor = system.address(JOURNAL), system.address("bot/executor")
    intent = events.intent("again")

    journal.tell(events.record(intent, executor))
    probe.wait_for(lambda _: recorded(probe) == ["again"], what="the first IntentRecorded")
    journal.tell(events.record(intent, executor))  # a later batch: a replay, a new incarnation
    journal.tell(events.record(events.intent("new"), executor))

    probe.wait_for(lambda _: len(recorded(probe)) == 3, what="three IntentRecorded")
    replies = [e for e in probe.events if isinstance(e, IntentRecorded)]
    assert [(r.intent_id, r.previously_recorded) for r in replies] == [
        ("again", False),
        ("again", True),
        ("new", False),
    ]


def test_the_same_intent_told_twice_back_to_back_is_new_once(
    system: ActorSystem, probe: Probe, events: Events, path: Path
) -> None:
    start_journal(system, probe, journal_config(path))
    journal, executor = system.address(JOURNAL), system.address("bot/executor")
    block = Block(release=threading.Event())
    journal.tell(block)  # hold the journal so both records are queued together
    block.entered.wait(5)
    intent = events.intent("twice")
    journal.tell(events.record(intent, executor))
    journal.tell(events.record(intent, executor))
    block.release.set()

    probe.wait_for(lambda _: len(recorded(probe)) == 2, what="two IntentRecorded")
    replies = [e for e in probe.events if isinstance(e, IntentRecorded)]
    assert [r.previously_recorded for r in replies] == [False, True]


def test_an_intent_is_committed_at_once_not_with_the_events_queued_behind_it(
    system: ActorSystem, probe: Probe, events: Events, path: Path
) -> None:
    start_journal(system, probe, journal_config(path))
    journal, executor = system.address(JOURNAL), system.address("bot/executor")
    block = Block(release=threading.Event())
    journal.tell(block)  # hold the journal so that everything below is queued together
    block.entered.wait(5)
    before = events.intent("before")
    journal.tell(events.fill(before, "fill-before"))
    journal.tell(events.record(events.intent("urgent"), executor))
    behind = [events.fill(before, f"fill-{n}", size="0.001") for n in range(50)]
    for fill in behind:
        journal.tell(fill)
    block.release.set()
    _sync(system, probe, events)

    # The intent's commit holds the fill told before it; the 50 behind it go in the next.
    state = system.state(JOURNAL)
    assert (state.commits, state.events_written, state.largest_batch) == (2, 52, 50)
    assert recorded(probe) == ["urgent"]


def test_a_fill_id_journaled_with_other_facts_is_an_integrity_error_logged_and_counted(
    system: ActorSystem,
    probe: Probe,
    events: Events,
    path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    start_journal(system, probe, journal_config(path))
    journal = system.address(JOURNAL)
    intent = events.intent()
    journal.tell(events.fill(intent, "fill-1", price="50000"))
    journal.tell(events.fill(intent, "fill-1", price="50000"))  # the same fill again: a no-op

    with caplog.at_level(logging.ERROR, logger="perpsbot.actors.journal"):
        journal.tell(events.fill(intent, "fill-1", price="49000"))  # another fill, that id
        _sync(system, probe, events)

    state = system.state(JOURNAL)
    assert (state.fill_conflicts, state.duplicates_ignored) == (1, 1)
    assert (
        "bot/journal: integrity error: fill fill-1 is journaled with other facts: price 50000"
        " stored, 49000 found; the stored fill is kept"
    ) in caplog.text
    with read(path) as reader:
        assert [fill.price for fill in reader.fills()] == [50000]
