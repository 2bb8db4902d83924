"""An order on the Global Derivatives venue waits, SUBMITTED, for the journal to hold its
SUBMITTED before it is written (so a restart can tell a sent order from one never sent).
Whatever came meanwhile, and overtook the journal's answer in the executor's mailbox, is
checked again before the write: a halt, a reduce-only, a position gone flat, the intent's
TTL. Refused then, the order ends never sent (a re-send of an order written once ends not
sent again: it is not taken for never sent)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest

from perpsbot.clock import FakeClock
from perpsbot.ids import client_order_id
from perpsbot.messages import (
    AccountReconciled,
    IntentPurpose,
    IntentRecorded,
    OrderStatus,
    PortfolioValued,
    Reconcile,
    ReconciliationCompleted,
    RecordIntent,
    Side,
    SyncJournal,
    TradingState,
)
from perpsbot.runtime import ActorContext, ChildSpec
from perpsbot.runtime.testing import Probe, wait_drained, wait_idle
from perpsbot.sim import SimExchange
from perpsbot.sim.gateway import SimGlobalGateway
from tests.actors.conftest import subscriber_spec
from tests.actors.execution.executor_harness import Harness, running, seed_journal, start_executor
from tests.actors.execution.global_venue import GLOBAL_BTC, GlobalSource
from tests.actors.trading import Recorder, recorder_spec
from tests.runtime.conftest import Block


def _meanwhile(
    sim: SimExchange,
    clock: FakeClock,
    source: GlobalSource,
    tmp_path: Path,
    meanwhile: Callable[[Harness], None],
    *,
    exit_of: str | None = None,
) -> tuple[list[object], list[OrderStatus]]:
    """Place one order (an entry buy, or the exit of a long of ``exit_of`` contracts), hold
    the journal busy while it waits SUBMITTED for the journal's answer, do ``meanwhile``, let
    the journal answer: what reached the venue, and the order's statuses."""
    path = tmp_path / "j.sqlite3"
    seed_journal(path, lambda _: [])
    journal = Probe()
    harness = start_executor(
        sim,
        path,
        clock=clock,
        symbols=(GLOBAL_BTC,),
        user_channel=False,
        gateways=source,
        user_channels=source.user_channel,
        journal=recorder_spec("journal", journal),
    )
    with running(harness) as bot:
        bot.trading(TradingState.ACTIVE)
        side, purpose = Side.BUY, IntentPurpose.ENTRY
        if exit_of is not None:
            side, purpose = Side.SELL, IntentPurpose.EXIT
            bot.position(GLOBAL_BTC, exit_of)
            wait_drained(bot.executor)
        bot.place(bot.intent("order", symbol=GLOBAL_BTC, size="1", side=side, purpose=purpose,
                             ttl_s=30.0))  # fmt: skip
        journal.wait_for(lambda told: any(isinstance(m, RecordIntent) for m in told))
        record = next(m for m in journal.events if isinstance(m, RecordIntent))
        block = Block(release=threading.Event())  # the journal is busy (a slow disk, a retry)
        bot.system.address("bot/journal").tell(block)
        assert block.entered.wait(10)
        bot.executor.tell(
            IntentRecorded(message_id="rec", ts_created_ns=0, correlation_id=record.message_id,
                           intent_id="order", client_order_id=record.client_order_id)
        )  # fmt: skip
        coid = client_order_id("order")
        bot.wait_status(coid, OrderStatus.SUBMITTED)
        meanwhile(bot)
        wait_drained(bot.executor)
        block.release.set()
        journal.wait_for(lambda told: any(isinstance(m, SyncJournal) for m in told))
        wait_drained(bot.executor)
        return list(source.orders(coid)), bot.statuses(coid)


@pytest.mark.parametrize(
    "case",
    [
        (TradingState.HALTED, False, OrderStatus.EXPIRED),  # risk's own fail-closed halt
        (TradingState.HALTED, True, OrderStatus.CANCELLED),  # an operator's halt
        (TradingState.REDUCING, None, OrderStatus.EXPIRED),
    ],
    ids=["risk-halted", "operator-halted", "reducing"],
)
def test_a_halt_or_reduce_only_that_came_while_the_journal_committed_is_never_bypassed(
    sim: SimExchange,
    clock: FakeClock,
    source: GlobalSource,
    tmp_path: Path,
    case: tuple[TradingState, bool | None, OrderStatus],
) -> None:
    state, by_a_person, ending = case
    sent, statuses = _meanwhile(
        sim,
        clock,
        source,
        tmp_path,
        lambda bot: bot.trading(state, "risk", by_a_person=by_a_person),
    )
    assert sent == []
    assert statuses[-1] is ending


def test_an_exit_whose_position_went_flat_while_the_journal_committed_is_never_sent(
    sim: SimExchange, clock: FakeClock, source: GlobalSource, tmp_path: Path
) -> None:
    sent, statuses = _meanwhile(
        sim,
        clock,
        source,
        tmp_path,
        lambda bot: bot.position(GLOBAL_BTC, "0"),
        exit_of="1",  # liquidated, say
    )
    assert sent == [], "an exit past a flat position would open a short"
    assert statuses[-1] is OrderStatus.EXPIRED


def test_an_order_the_journal_answers_past_its_ttl_ends_expired_not_unknown(
    sim: SimExchange, clock: FakeClock, source: GlobalSource, tmp_path: Path
) -> None:
    sent, statuses = _meanwhile(sim, clock, source, tmp_path, lambda bot: bot.clock.advance(31.0))
    assert sent == []
    assert OrderStatus.UNKNOWN not in statuses
    assert statuses[-1] is OrderStatus.EXPIRED


def test_an_order_the_journal_answers_in_a_state_that_allows_it_is_written_once(
    sim: SimExchange, clock: FakeClock, source: GlobalSource, tmp_path: Path
) -> None:
    sent, statuses = _meanwhile(sim, clock, source, tmp_path, lambda bot: None)
    assert len(sent) == 1
    assert OrderStatus.ACKNOWLEDGED in statuses or OrderStatus.FILLED in statuses


@attrs.frozen(kw_only=True)
class _AnswerHeld:
    """Tells the holding journal to answer the ``SyncJournal`` it held."""


class _HoldingJournal(Recorder):
    """The stand-in journal, which holds its answers to ``SyncJournal`` while ``holding`` is
    set (a slow commit, a retry), until told :class:`_AnswerHeld`; it stays idle meanwhile."""

    def __init__(self, *, context: ActorContext, probe: Probe, holding: threading.Event) -> None:
        super().__init__(context=context, probe=probe)
        self._holding = holding
        self._held: list[SyncJournal] = []

    def on_receive(self, message: Any) -> None:
        match message:
            case SyncJournal() if self._holding.is_set():
                self.probe.record(message)
                self._held.append(message)
            case _AnswerHeld():
                self._holding.clear()
                held, self._held = self._held, []
                for sync in held:
                    super().on_receive(sync)
            case _:
                super().on_receive(message)


def _holding_journal(probe: Probe, holding: threading.Event) -> ChildSpec:
    return ChildSpec(
        name="journal",
        factory=lambda ctx: _HoldingJournal(context=ctx, probe=probe, holding=holding),
    )


def test_a_resent_order_refused_while_the_journal_committed_was_written_once_not_never_sent(
    sim: SimExchange,
    clock: FakeClock,
    source: GlobalSource,
    gateway: SimGlobalGateway,
    tmp_path: Path,
) -> None:
    # Written once, refused for the rate limit (UNKNOWN: nothing tells whether it was placed),
    # proven absent once its send-by instant passed, and re-sent: SUBMITTED again, it waits
    # for the journal, and a reduce-only overtakes the answer. It ends unsent this time, but
    # it was written once: were it marked never sent, no venue order carrying its label
    # (its first write, should the venue show it late) would ever be taken for it.
    journal, holding = Probe(), threading.Event()
    harness = start_executor(
        sim, tmp_path / "j.sqlite3", clock=clock, symbols=(GLOBAL_BTC,), user_channel=False,
        gateways=source, journal=_holding_journal(journal, holding),
    )  # fmt: skip
    with running(harness) as bot:
        bot.trading(TradingState.ACTIVE)
        gateway.faults.too_many_requests(1, orders_only=True)
        bot.place(bot.intent("resent", symbol=GLOBAL_BTC, size="1", ttl_s=60.0))
        journal.wait_for(lambda told: any(isinstance(m, RecordIntent) for m in told))
        record = next(m for m in journal.events if isinstance(m, RecordIntent))
        coid = record.client_order_id
        bot.executor.tell(
            IntentRecorded(message_id="rec", ts_created_ns=0, correlation_id=record.message_id,
                           intent_id="resent", client_order_id=coid)
        )  # fmt: skip
        bot.wait_status(coid, OrderStatus.UNKNOWN)
        holding.set()  # the journal is slow from now on

        def resent() -> bool:
            bot.clock.advance(1.0)  # each second's reconciliations look for it
            wait_idle(bot.system, timeout_s=10.0)
            return bot.statuses(coid)[-1] is OrderStatus.SUBMITTED

        bot.until(resent, "the order proven absent and re-sent", timeout_s=30.0)
        bot.trading(TradingState.REDUCING)
        wait_drained(bot.executor)
        bot.system.address("bot/journal").tell(_AnswerHeld())
        ended = bot.wait_status(coid, OrderStatus.EXPIRED)
        assert ended.reason.startswith("not sent again: "), ended.reason
        assert source.orders(coid) == []


def _unwritten(bot: Harness, journal: Probe, intent_id: str) -> str:
    """Place ``intent_id`` (a 30 s TTL) while the journal holds its answers: it waits,
    SUBMITTED and unwritten, for the journal. Returns its label."""
    bot.trading(TradingState.ACTIVE)
    bot.place(bot.intent(intent_id, symbol=GLOBAL_BTC, size="1", ttl_s=30.0))
    journal.wait_for(lambda told: any(isinstance(m, RecordIntent) for m in told))
    record = next(m for m in journal.events if isinstance(m, RecordIntent))
    bot.executor.tell(
        IntentRecorded(message_id="rec", ts_created_ns=0, correlation_id=record.message_id,
                       intent_id=intent_id, client_order_id=record.client_order_id)
    )  # fmt: skip
    bot.wait_status(record.client_order_id, OrderStatus.SUBMITTED)
    journal.wait_for(lambda told: any(isinstance(m, SyncJournal) for m in told))
    return record.client_order_id


def _valued(reconciled: AccountReconciled) -> PortfolioValued:
    """The portfolio's answer to ``reconciled``."""
    return PortfolioValued(
        message_id=f"valued-{reconciled.message_id}", ts_created_ns=0, cycle=None, equity=None,
        realized_pnl=Decimal(0), unrealized_pnl=Decimal(0), daily_pnl=Decimal(0),
        exposure=Decimal(0), positions=(), correlation_id=reconciled.message_id,
    )  # fmt: skip


def test_an_order_waiting_for_a_portfolio_answer_that_never_comes_ends_past_its_ttl(
    sim: SimExchange, clock: FakeClock, source: GlobalSource, tmp_path: Path
) -> None:
    # The test plays the portfolio: it answers the startup reconciliation, then no more.
    journal, holding = Probe(), threading.Event()
    harness = start_executor(
        sim, tmp_path / "j.sqlite3", clock=clock, symbols=(GLOBAL_BTC,), user_channel=False,
        gateways=source, journal=_holding_journal(journal, holding),
        portfolio=subscriber_spec(Probe(), "portfolio"),
    )  # fmt: skip
    with running(harness) as bot:
        (startup,) = bot.of(AccountReconciled)
        bot.executor.tell(_valued(startup))
        holding.set()
        coid = _unwritten(bot, journal, "waits")
        passes = len([c for c in bot.of(ReconciliationCompleted) if c.success])
        bot.executor.tell(Reconcile())  # its corrections overtake the journal's answer
        bot.wait_reconciled(passes + 1)
        bot.system.address("bot/journal").tell(_AnswerHeld())
        wait_idle(bot.system, timeout_s=10.0)
        assert bot.statuses(coid)[-1] is OrderStatus.SUBMITTED  # waits for the portfolio
        bot.clock.advance(31.0)  # past its TTL; the poll timer fires
        wait_idle(bot.system, timeout_s=10.0)
        ended = bot.wait_status(coid, OrderStatus.EXPIRED)
        assert ended.reason.startswith("never sent: past its TTL by "), ended.reason
        assert ended.reason.endswith("waiting for the portfolio's answer to a reconciliation")
        assert source.orders(coid) == []


def test_an_order_waiting_for_a_journal_answer_that_never_comes_ends_past_its_ttl(
    sim: SimExchange, clock: FakeClock, source: GlobalSource, tmp_path: Path
) -> None:
    journal, holding = Probe(), threading.Event()
    harness = start_executor(
        sim, tmp_path / "j.sqlite3", clock=clock, symbols=(GLOBAL_BTC,), user_channel=False,
        gateways=source, journal=_holding_journal(journal, holding),
    )  # fmt: skip
    with running(harness) as bot:
        holding.set()
        coid = _unwritten(bot, journal, "waits")
        bot.clock.advance(31.0)  # past its TTL; the poll timer fires
        wait_idle(bot.system, timeout_s=10.0)
        ended = bot.wait_status(coid, OrderStatus.EXPIRED)
        assert ended.reason.startswith("never sent: past its TTL by "), ended.reason
        assert ended.reason.endswith("waiting for the journal")
        bot.system.address("bot/journal").tell(_AnswerHeld())  # the answer, too late
        wait_idle(bot.system, timeout_s=10.0)
        assert source.orders(coid) == []
        assert bot.statuses(coid)[-1] is OrderStatus.EXPIRED
