"""What outlives the process: the operator's halt and the day's PnL, written by the real
journal actor and read back through a JournalReader by a second actor system (the bot's next
process)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs

from perpsbot.actors import JournalActor
from perpsbot.clock import FakeClock
from perpsbot.config import JournalConfig
from perpsbot.ids import SequentialIds
from perpsbot.journal import JournalReader
from perpsbot.messages import (
    BookRead,
    CancelAllOrders,
    Halt,
    JournalSynced,
    OperatorStateRead,
    ReadBook,
    ReadOperatorState,
    Resume,
    RiskSnapshot,
    Side,
    SyncJournal,
    TradingState,
    TradingStateChanged,
    VenuePosition,
)
from perpsbot.runtime import ActorSystem, BaseActor
from perpsbot.runtime.testing import wait_drained
from tests.actors.risk.risk_tree import Tree
from tests.actors.trading import (
    D,
    account,
    bot_config,
    command,
    fill,
    intent,
    of_type,
    products,
    reconciled,
)

ACTIVE, REDUCING, HALTED = TradingState.ACTIVE, TradingState.REDUCING, TradingState.HALTED
DAY_NS = 86_400 * 10**9
#: The journal keeps one risk snapshot per interval (of their own time) unless the state changed.
SNAPSHOT_INTERVAL_S = 1.0


def start(system: ActorSystem, clock: FakeClock, path: Path, **risk: Any) -> Tree:
    """Risk with the real journal actor writing ``path``, read back by a JournalReader."""
    tree = Tree(system, clock)
    journal = JournalConfig(path=path, risk_snapshot_interval_s=SNAPSHOT_INTERVAL_S)
    tree.start(
        attrs.evolve(bot_config(risk=risk), journal=journal),
        journal=lambda ctx: JournalActor(context=ctx),
    )
    return tree


def committed(tree: Tree) -> None:
    """Wait until the journal committed everything risk told it before (risk tells its
    subscriber before the journal, so a snapshot seen published may not be told yet)."""
    wait_drained(tree.risk)
    sync = SyncJournal(
        message_id=f"sync-{len(tree.published.events)}",
        ts_created_ns=0,
        reply_to=tree.system.address("bot/subscriber"),
    )
    tree.system.address("bot/journal").tell(sync)
    of_type(tree.published, JournalSynced, lambda m: m.correlation_id == sync.message_id)


def journaled_snapshot(path: Path) -> RiskSnapshot | None:
    with JournalReader(path) as reader:
        return reader.last_risk_snapshot()


def journal_read(tree: Tree) -> TradingStateChanged:
    """Wait until risk read the journal back (it holds trading and carries nothing before)."""
    return of_type(
        tree.published, TradingStateChanged, lambda m: m.reason.startswith("operator state")
    )


def clean(tree: Tree, *positions: VenuePosition) -> None:
    """Products, a successful reconciliation and the venue's account; no marks yet."""
    tree.tell(products())
    tree.tell(reconciled())
    tree.tell(account(10_000, *positions))


def next_process(wall_start_ns: int) -> ActorSystem:
    return ActorSystem(
        "next",
        clock=FakeClock(wall_start_ns=wall_start_ns),
        ids=SequentialIds("p"),
        watchdog_interval_s=None,
    )


def test_a_halt_holds_across_a_process_restart_until_an_operator_resumes(
    system: ActorSystem, clock: FakeClock, later: list[ActorSystem], tmp_path: Path
) -> None:
    path = tmp_path / "journal.sqlite3"
    first = start(system, clock, path)
    first.activate()
    first.risk.ask(command(Halt, "incident 42", "alice"), timeout_s=5)
    committed(first)
    with JournalReader(path) as reader:
        assert isinstance(reader.last_operator_command(), Halt)
    system.shutdown()

    later.append(process := next_process(clock.time_ns()))
    second = start(process, clock, path)
    restored = journal_read(second)
    assert restored.state is HALTED
    assert restored.reasons[0] == "halted by alice: incident 42"
    clean(second)
    assert second.snapshot(1).reasons == ("halted by alice: incident 42",)
    assert second.denied(intent(Side.BUY, "0.1")).rule == "halted"
    assert second.risk.ask(command(Resume, "resolved", "bob"), timeout_s=5) is ACTIVE


def test_the_days_loss_carries_across_a_process_restart(
    system: ActorSystem, clock: FakeClock, later: list[ActorSystem], tmp_path: Path
) -> None:
    path = tmp_path / "journal.sqlite3"
    first = start(system, clock, path, daily_loss_limit_usd=D(100))
    first.activate(mark=100)
    first.tell(fill(Side.BUY, 10, 100))
    clock.advance(SNAPSHOT_INTERVAL_S)  # the journal keeps this cycle's snapshot
    assert first.snapshot(2, 94).daily_pnl == D(-60)
    committed(first)
    assert getattr(journaled_snapshot(path), "cycle", None) == 2
    system.shutdown()

    later.append(process := next_process(clock.time_ns()))
    second = start(process, clock, path, daily_loss_limit_usd=D(100))
    journal_read(second)
    held = VenuePosition(
        symbol="BTC-USD", quantity=D(10), average_entry_price=D(100), contract_size=D(1)
    )
    clean(second, held)
    # Adopted at the venue's entry: its first mark is no loss of the day's, the carried one is.
    assert second.snapshot(1, 94).daily_pnl == D(-60)
    assert second.snapshot(2, 94, "89.9").state is REDUCING  # -101 USD for the day
    assert of_type(second.executor, CancelAllOrders).entries_only


def test_a_previous_days_loss_is_not_carried(
    system: ActorSystem, clock: FakeClock, later: list[ActorSystem], tmp_path: Path
) -> None:
    path = tmp_path / "journal.sqlite3"
    first = start(system, clock, path)
    first.activate(mark=100)
    first.tell(fill(Side.BUY, 10, 100))
    clock.advance(SNAPSHOT_INTERVAL_S)
    assert first.snapshot(2, 94).daily_pnl == D(-60)
    committed(first)
    assert getattr(journaled_snapshot(path), "cycle", None) == 2
    system.shutdown()

    later.append(process := next_process(clock.time_ns() + DAY_NS))
    second = start(process, clock, path)
    journal_read(second)
    clean(second)
    assert second.snapshot(1).daily_pnl == D(0)


def test_an_unreadable_journal_keeps_trading_halted_until_resumed(
    system: ActorSystem, clock: FakeClock, tmp_path: Path
) -> None:
    not_a_database = tmp_path / "journal.sqlite3"
    not_a_database.write_text("not a database")
    tree = Tree(system, clock)
    # The journal answers the read with why it failed (a file replaced under a running bot).
    tree.start(bot_config(), journal=lambda ctx: _UnreadableJournal(context=ctx))
    state = of_type(tree.published, TradingStateChanged, lambda m: m.reason == "journal unreadable")
    assert state.state is HALTED
    assert state.reasons[0] == (
        "operator state unreadable (DatabaseError: file is not a database); resume to trade"
    )
    clean(tree)
    assert tree.snapshot(1).state is HALTED
    assert tree.risk.ask(command(Resume, "checked"), timeout_s=5) is ACTIVE


class _UnreadableJournal(BaseActor):
    """A journal that cannot read the operator's last command: it answers with the error."""

    def on_receive(self, message: Any) -> None:
        stamp = {"message_id": "j", "ts_created_ns": 0, "correlation_id": message.message_id}
        if isinstance(message, ReadOperatorState):
            error = "DatabaseError: file is not a database"
            message.reply_to.tell(OperatorStateRead(**stamp, error=error))
        elif isinstance(message, ReadBook):  # the portfolio's read found nothing
            message.reply_to.tell(BookRead(**stamp))
