"""Whose order is whose on the Global Derivatives venue, where anyone on the account may
place an order under one of our labels (client order ids are not deduplicated), across a
restart: an order the journal proves was never sent matches no venue order, however alike.

A "stranger" here is the test placing orders under our labels with a gateway of its own.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest

from perpsbot.clock import FakeClock
from perpsbot.ids import client_order_id
from perpsbot.messages import (
    AccountReconciled,
    IntentRecorded,
    OrderFilled,
    OrderStatus,
    OrderType,
    Reconcile,
    ReconciliationCompleted,
    RecordIntent,
    Side,
    TimeInForce,
    TradingState,
    TransitionSource,
)
from perpsbot.runtime.testing import Probe, wait_drained
from perpsbot.sim import SimExchange
from perpsbot.sim.gateway import SimGlobalGateway
from perpsbot.venue.gateway import NewOrder, VenueOrder
from tests.actors.execution.executor_harness import (
    Harness,
    journaled_update,
    make_intent,
    recorded,
    running,
    seed_journal,
    start_executor,
)
from tests.actors.execution.global_venue import GLOBAL_BTC, GlobalSource
from tests.actors.trading import recorder_spec


def _as_a_stranger(source: GlobalSource, label: str, contracts: str) -> str:
    """A market buy of ``contracts`` carrying ``label``, placed by someone else on the
    account; returns its venue order id."""
    stranger = source.gateway()
    stranger.products([GLOBAL_BTC])
    return stranger.create_order(
        NewOrder(client_order_id=label, symbol=GLOBAL_BTC, side=Side.BUY,
                 size=Decimal(contracts), order_type=OrderType.MARKET,
                 time_in_force=TimeInForce.IOC)
    )  # fmt: skip


def _start(sim: SimExchange, clock: FakeClock, source: GlobalSource, path: Path) -> Harness:
    return start_executor(
        sim, path, clock=clock, symbols=(GLOBAL_BTC,), user_channel=False, gateways=source,
        user_channels=source.user_channel,
    )  # fmt: skip


def _ours(source: GlobalSource, label: str, stranger_id: str) -> list[VenueOrder]:
    return [o for o in source.orders(label) if o.venue_order_id != stranger_id]


def test_an_order_journaled_never_sent_is_sent_once_and_a_strangers_identical_twin_never_taken(
    sim: SimExchange, clock: FakeClock, source: GlobalSource, tmp_path: Path
) -> None:
    # The last process journaled the intent and its PENDING_SUBMIT, and died before the
    # journal held its SUBMITTED: on this venue its request never went out. Meanwhile a
    # stranger bought the same size under its label.
    path = tmp_path / "j.sqlite3"
    intent = make_intent(clock, "twin", symbol=GLOBAL_BTC, size="2", ttl_s=300.0)
    seed_journal(
        path, lambda reply_to: [recorded(intent, reply_to),
                                journaled_update(intent, OrderStatus.PENDING_SUBMIT)],
    )  # fmt: skip
    coid = client_order_id("twin")
    stranger_id = _as_a_stranger(source, coid, "2")
    with running(_start(sim, clock, source, path)) as bot:
        assert OrderStatus.FILLED not in bot.statuses(coid)  # the twin is not it
        bot.trading(TradingState.ACTIVE)

        def filled() -> bool:
            bot.clock.advance(1.0)  # the reconciliation the trading state asked for
            wait_drained(bot.executor)
            return OrderStatus.FILLED in bot.statuses(coid)

        bot.until(filled, "the order sent once and filled", timeout_s=30.0)
        (ours,) = _ours(source, coid, stranger_id)
        assert stranger_id not in {u.venue_order_id for u in bot.updates(coid)}
        published = [f for f in bot.of(OrderFilled) if f.client_order_id == coid]
        assert sum(f.size for f in published) == ours.filled_size == 2  # the twin's: never
        assert bot.journaled(coid, OrderStatus.FILLED).venue_order_id == ours.venue_order_id


def _resting_as_a_stranger(source: GlobalSource, label: str) -> str:
    """A resting limit buy of one contract carrying ``label``; returns its venue order id."""
    stranger = source.gateway()
    stranger.products([GLOBAL_BTC])
    return stranger.create_order(
        NewOrder(client_order_id=label, symbol=GLOBAL_BTC, side=Side.BUY, size=Decimal(1),
                 order_type=OrderType.LIMIT, time_in_force=TimeInForce.GTC,
                 limit_price=Decimal(50_000))
    )  # fmt: skip


def test_after_a_restart_only_a_label_the_journal_issued_is_adopted_and_strangers_are_left_alone(
    sim: SimExchange, clock: FakeClock, source: GlobalSource, tmp_path: Path
) -> None:
    # The last process issued "kept" and journaled it finished, yet the venue holds it open:
    # ours, adopted. Two orders carry our prefix under labels the bot never issued: a
    # stranger's resting order and a stranger's filled one.
    path = tmp_path / "j.sqlite3"
    kept = make_intent(clock, "kept", symbol=GLOBAL_BTC, size="1", limit="50000",
                       tif=TimeInForce.GTC)  # fmt: skip
    seed_journal(
        path, lambda reply_to: [recorded(kept, reply_to),
                                journaled_update(kept, OrderStatus.PENDING_SUBMIT),
                                journaled_update(kept, OrderStatus.SUBMITTED),
                                journaled_update(kept, OrderStatus.CANCELLED)],
    )  # fmt: skip
    kept_id = _resting_as_a_stranger(source, client_order_id("kept"))
    resting = client_order_id("never-issued")
    _resting_as_a_stranger(source, resting)
    filled = client_order_id("never-issued-either")
    _as_a_stranger(source, filled, "2")
    with running(_start(sim, clock, source, path)) as bot:
        adopted = bot.updates(client_order_id("kept"))
        assert [(u.status, u.venue_order_id) for u in adopted] == [
            (OrderStatus.ACKNOWLEDGED, kept_id)
        ]
        assert bot.updates(resting) == []
        assert [f for f in bot.of(OrderFilled) if f.client_order_id == filled] == []
        state = bot.state()
        assert state.swept_fills == 0
        assert state.foreign_orders == 2  # each counted once
        bot.clock.advance(60.0)  # a periodic pass sees them again: still left alone
        wait_drained(bot.executor)
        assert bot.updates(resting) == []
        assert bot.state().foreign_orders == 2


def _finished(clock: FakeClock, path: Path, intent_id: str, **details: Any) -> str:
    """Journal ``intent_id``'s order as the last process left it: written, acknowledged by
    the venue as ``ours-<intent_id>``, then cancelled. Returns its label."""
    intent = make_intent(clock, intent_id, symbol=GLOBAL_BTC, **details)
    venue_id = f"ours-{intent_id}"
    seed_journal(
        path, lambda reply_to: [
            recorded(intent, reply_to),
            journaled_update(intent, OrderStatus.PENDING_SUBMIT),
            journaled_update(intent, OrderStatus.SUBMITTED),
            journaled_update(intent, OrderStatus.ACKNOWLEDGED, venue_id),
            journaled_update(intent, OrderStatus.CANCELLED, venue_id),
        ],
    )  # fmt: skip
    return client_order_id(intent_id)


def _swept(bot: Harness) -> list[OrderFilled]:
    return [f for r in bot.of(AccountReconciled) for f in r.fills]


def test_after_a_restart_a_strangers_open_order_under_the_label_of_a_finished_order_is_left_alone(
    sim: SimExchange,
    clock: FakeClock,
    source: GlobalSource,
    gateway: SimGlobalGateway,
    tmp_path: Path,
) -> None:
    # The journal holds the label's order finished, with its venue id; a stranger has since
    # placed an order under that label, resting at the venue: not ours.
    path = tmp_path / "j.sqlite3"
    label = _finished(clock, path, "rested", size="1", limit="50000", tif=TimeInForce.GTC)
    stranger_id = _resting_as_a_stranger(source, label)
    cancels = gateway.requests("private/cancel")
    with running(_start(sim, clock, source, path)) as bot:
        assert bot.updates(label) == []  # neither adopted nor settled
        assert bot.state().foreign_orders == 1
        bot.clock.advance(60.0)  # a periodic pass sees it again: still left alone
        wait_drained(bot.executor)
        assert bot.updates(label) == []
        assert bot.of(OrderFilled) == _swept(bot) == []
        assert bot.state().foreign_orders == 1  # counted once
    assert gateway.requests("private/cancel") == cancels  # never cancelled
    (still,) = source.orders(label)
    assert (still.venue_order_id, still.status) == (stranger_id, "OPEN")


def test_after_a_restart_a_strangers_fill_under_the_label_of_a_finished_order_is_not_swept(
    sim: SimExchange, clock: FakeClock, source: GlobalSource, tmp_path: Path
) -> None:
    # As above, but the stranger's order filled at once: the sweep finds its fill.
    path = tmp_path / "j.sqlite3"
    label = _finished(clock, path, "swept", size="2")
    _as_a_stranger(source, label, "2")
    with running(_start(sim, clock, source, path)) as bot:
        state = bot.state()
        assert (state.sweep_lookups, state.swept_fills, state.foreign_orders) == (1, 0, 1)
        assert bot.updates(label) == []
        assert bot.of(OrderFilled) == _swept(bot) == []  # no position booked from it
        bot.clock.advance(60.0)  # a periodic pass reads the fill again: not looked up again
        wait_drained(bot.executor)
        assert _swept(bot) == []
        assert (bot.state().sweep_lookups, bot.state().foreign_orders) == (1, 1)


def test_after_a_restart_the_sweep_looks_up_no_order_of_a_fill_the_journal_holds(
    sim: SimExchange,
    clock: FakeClock,
    source: GlobalSource,
    gateway: SimGlobalGateway,
    tmp_path: Path,
) -> None:
    path = tmp_path / "j.sqlite3"
    earlier = [f"earlier-{n}" for n in range(3)]
    with running(_start(sim, clock, source, path)) as bot:
        bot.trading(TradingState.ACTIVE)
        for intent_id in earlier:
            bot.place(bot.intent(intent_id, symbol=GLOBAL_BTC, size="1"))
            bot.wait_status(client_order_id(intent_id), OrderStatus.FILLED)

        def journaled() -> bool:
            with bot.reader() as journal:
                return len(journal.fill_ids()) == len(earlier)

        bot.until(journaled, "the earlier fills journaled")
    lookups = gateway.requests("private/get_order_state")
    # A new process: the venue's fills of the day are those three, of orders it does not hold.
    with running(_start(sim, clock, source, path)) as bot:
        assert gateway.requests("private/get_order_state") == lookups
        assert bot.state().sweep_lookups == 0
        assert bot.of(OrderFilled) == []  # booked from the journal already, not carried again


@pytest.mark.parametrize("waited_submitted", [False, True], ids=["pending", "waited-submitted"])
def test_a_strangers_order_under_a_label_the_journal_shows_never_sent_is_not_adopted(
    sim: SimExchange,
    clock: FakeClock,
    source: GlobalSource,
    tmp_path: Path,
    waited_submitted: bool,
) -> None:
    path = tmp_path / "j.sqlite3"
    intent = make_intent(
        clock, "unsent", symbol=GLOBAL_BTC, size="1", limit="50000", tif=TimeInForce.GTC
    )
    # Journaled, then expired before it was ever sent: from PENDING_SUBMIT (trading never
    # allowed it), or from a SUBMITTED that waited for the journal and was refused then.
    submitted = journaled_update(intent, OrderStatus.SUBMITTED)
    ended = attrs.evolve(
        journaled_update(intent, OrderStatus.EXPIRED),
        source=TransitionSource.LOCAL,
        previous=OrderStatus.SUBMITTED if waited_submitted else OrderStatus.PENDING_SUBMIT,
    )
    seed_journal(
        path,
        lambda reply_to: [
            recorded(intent, reply_to),
            journaled_update(intent, OrderStatus.PENDING_SUBMIT),
            *([submitted] if waited_submitted else []),
            ended,
        ],
    )
    coid = client_order_id("unsent")
    stranger = source.gateway()
    stranger.products([GLOBAL_BTC])
    stranger.create_order(
        NewOrder(
            client_order_id=coid,
            symbol=GLOBAL_BTC,
            side=Side.BUY,
            size=Decimal(1),
            order_type=OrderType.LIMIT,
            time_in_force=TimeInForce.GTC,
            limit_price=Decimal(50_000),
        )
    )
    with running(
        start_executor(
            sim,
            path,
            clock=clock,
            symbols=(GLOBAL_BTC,),
            user_channel=False,
            gateways=source,
            user_channels=source.user_channel,
        )
    ) as bot:
        adopted = [(u.status, u.reason) for u in bot.updates(coid)]
        assert adopted == [], f"a stranger's order under a never-sent label adopted: {adopted}"


def _halted_before_journaled(bot: Harness, journal: Probe, intent_id: str) -> str:
    """Place ``intent_id``; an operator halts trading before the journal confirms its intent,
    so it ends never sent. Returns its label."""
    bot.trading(TradingState.ACTIVE)
    bot.place(bot.intent(intent_id, symbol=GLOBAL_BTC, size="1"))
    coid = client_order_id(intent_id)

    def recorded() -> list[RecordIntent]:
        return [m for m in journal.events
                if isinstance(m, RecordIntent) and m.client_order_id == coid]  # fmt: skip

    journal.wait_for(lambda _: bool(recorded()), what=f"{intent_id}'s intent journaled")
    bot.trading(TradingState.HALTED, "operator")
    bot.executor.tell(
        IntentRecorded(message_id=f"rec-{intent_id}", ts_created_ns=0,
                       correlation_id=recorded()[0].message_id, intent_id=intent_id,
                       client_order_id=coid)
    )  # fmt: skip
    bot.wait_status(coid, OrderStatus.CANCELLED)
    return coid


def test_a_label_journaled_but_never_written_is_not_ours_once_the_executor_forgot_its_order(
    sim: SimExchange, clock: FakeClock, source: GlobalSource, tmp_path: Path
) -> None:
    # A label is issued when its order is written to the venue, not when it is journaled:
    # once the executor no longer holds the order (it keeps one finished order here, a
    # thousand by default), the label alone must not make a stranger's order ours.
    journal = Probe()
    harness = start_executor(
        sim, tmp_path / "j.sqlite3", clock=clock, symbols=(GLOBAL_BTC,), user_channel=False,
        gateways=source, journal=recorder_spec("journal", journal), keep_finished=1,
    )  # fmt: skip
    with running(harness) as bot:
        unsent = _halted_before_journaled(bot, journal, "unsent")
        later = _halted_before_journaled(bot, journal, "later")
        assert set(bot.state().orders) == {later}, "the older finished order is forgotten"
        _resting_as_a_stranger(source, unsent)
        told = len(bot.updates(unsent))
        passes = len([c for c in bot.of(ReconciliationCompleted) if c.success])
        bot.executor.tell(Reconcile())
        bot.wait_reconciled(passes + 1)
        adopted = [(u.status, u.reason) for u in bot.updates(unsent)][told:]
        assert adopted == [], f"a stranger's order under a never-written label adopted: {adopted}"
        assert bot.state().foreign_orders == 1
