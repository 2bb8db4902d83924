"""What outlives the process: the operator's halt and the day's PnL, through a real SQLite file
read back by a second actor system (the bot's next process)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from perpsbot.actors.risk import OperatorCommand
from perpsbot.clock import FakeClock
from perpsbot.ids import SequentialIds
from perpsbot.messages import (
    CancelAllOrders,
    Halt,
    ReduceOnly,
    Resume,
    RiskSnapshot,
    Side,
    TradingState,
    TradingStateChanged,
    VenuePosition,
)
from perpsbot.runtime import ActorContext, ActorSystem
from tests.actors.risk_tree import Tree
from tests.actors.trading import (
    D,
    Recorder,
    account,
    bot_config,
    command,
    fill,
    intent,
    of_type,
    products,
    reconciled,
)
from tests.support.probe import Probe

ACTIVE, REDUCING, HALTED = TradingState.ACTIVE, TradingState.REDUCING, TradingState.HALTED
_COMMANDS: dict[str, type[OperatorCommand]] = {
    "halt": Halt,
    "reduce_only": ReduceOnly,
    "resume": Resume,
}
DAY_NS = 86_400 * 10**9


class SqliteJournal(Recorder):
    """Stands in for the journal actor: stores operator commands (in the journal's
    ``operator_commands`` layout) and risk snapshots in a real SQLite file."""

    def __init__(self, *, context: ActorContext, probe: Probe, path: Path) -> None:
        super().__init__(context=context, probe=probe)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS operator_commands (seq INTEGER PRIMARY KEY,"
            " message_id TEXT, ts_created_ns INTEGER, command TEXT, reason TEXT, operator TEXT)"
        )
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS risk_snapshots (seq INTEGER PRIMARY KEY,"
            " message_id TEXT, ts_created_ns INTEGER, cycle INTEGER, state TEXT, daily_pnl TEXT)"
        )

    def on_receive(self, message: Any) -> None:
        if isinstance(message, Halt | ReduceOnly | Resume):
            name = next(n for n, kind in _COMMANDS.items() if kind is type(message))
            self._db.execute(
                "INSERT INTO operator_commands (message_id, ts_created_ns, command, reason,"
                " operator) VALUES (?, ?, ?, ?, ?)",
                (message.message_id, message.ts_created_ns, name, message.reason, message.operator),
            )
        elif isinstance(message, RiskSnapshot):
            self._db.execute(
                "INSERT INTO risk_snapshots (message_id, ts_created_ns, cycle, state, daily_pnl)"
                " VALUES (?, ?, ?, ?, ?)",
                (message.message_id, message.ts_created_ns, message.cycle, message.state.value,
                 str(message.daily_pnl)),
            )  # fmt: skip
        super().on_receive(message)

    def on_stop(self) -> None:
        self._db.close()


class FileReader:
    """Risk's reads, on a read-only connection to the file (what JournalReader offers)."""

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)

    def last_operator_command(self) -> OperatorCommand | None:
        row = self._db.execute(
            "SELECT command, reason, operator, message_id, ts_created_ns FROM operator_commands"
            " ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        if row is None:
            return None
        kind = _COMMANDS[row[0]]
        return kind(reason=row[1], operator=row[2], message_id=row[3], ts_created_ns=row[4])

    def last_risk_snapshot(self) -> RiskSnapshot | None:
        row = self._db.execute(
            "SELECT message_id, ts_created_ns, cycle, state, daily_pnl FROM risk_snapshots"
            " ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        if row is None:
            return None
        zero = D(0)
        return RiskSnapshot(
            message_id=row[0], ts_created_ns=row[1], cycle=row[2], state=TradingState(row[3]),
            reasons=(), equity=None, realized_pnl=zero, unrealized_pnl=zero,
            daily_pnl=D(row[4]), exposure=zero, positions=(),
        )  # fmt: skip

    def close(self) -> None:
        self._db.close()


def start(system: ActorSystem, clock: FakeClock, path: Path, **risk: Any) -> Tree:
    tree = Tree(system, clock)
    tree.start(
        bot_config(risk=risk),
        open_journal=lambda: FileReader(path),
        journal=lambda ctx: SqliteJournal(context=ctx, probe=tree.journal, path=path),
        journaled=(RiskSnapshot,),
    )
    return tree


def clean(tree: Tree, *positions: VenuePosition) -> None:
    """Products, a successful reconciliation and the venue's account; no marks yet."""
    tree.risk.tell(products())
    tree.risk.tell(reconciled())
    tree.risk.tell(account(10_000, *positions))


def next_process(wall_start_ns: int) -> ActorSystem:
    return ActorSystem(
        "next",
        clock=FakeClock(wall_start_ns=wall_start_ns),
        ids=SequentialIds("p"),
        watchdog_interval_s=None,
    )


@pytest.fixture
def later() -> Iterator[list[ActorSystem]]:
    """Actor systems started by the test as the bot's next processes; shut down after it."""
    systems: list[ActorSystem] = []
    yield systems
    for system in systems:
        system.shutdown()


def test_a_halt_holds_across_a_process_restart_until_an_operator_resumes(
    system: ActorSystem, clock: FakeClock, later: list[ActorSystem], tmp_path: Path
) -> None:
    path = tmp_path / "journal.sqlite3"
    first = start(system, clock, path)
    first.activate()
    first.risk.ask(command(Halt, "incident 42", "alice"), timeout_s=5)
    of_type(first.journal, Halt)  # stored in the file
    system.shutdown()

    later.append(process := next_process(clock.time_ns()))
    second = start(process, clock, path)
    restored = of_type(
        second.published, TradingStateChanged, lambda m: m.reason.startswith("operator state")
    )
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
    first.risk.tell(fill(Side.BUY, 10, 100))
    assert first.snapshot(2, 94).daily_pnl == D(-60)
    of_type(first.journal, RiskSnapshot, lambda m: m.cycle == 2)  # stored in the file
    system.shutdown()

    later.append(process := next_process(clock.time_ns()))
    second = start(process, clock, path, daily_loss_limit_usd=D(100))
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
    first.risk.tell(fill(Side.BUY, 10, 100))
    assert first.snapshot(2, 94).daily_pnl == D(-60)
    of_type(first.journal, RiskSnapshot, lambda m: m.cycle == 2)
    system.shutdown()

    later.append(process := next_process(clock.time_ns() + DAY_NS))
    second = start(process, clock, path)
    clean(second)
    assert second.snapshot(1).daily_pnl == D(0)


def test_an_unreadable_journal_keeps_trading_halted_until_resumed(
    system: ActorSystem, clock: FakeClock, tmp_path: Path
) -> None:
    not_a_database = tmp_path / "journal.sqlite3"
    not_a_database.write_text("not a database")
    tree = Tree(system, clock)
    tree.start(bot_config(), open_journal=lambda: FileReader(not_a_database))
    state = of_type(tree.published, TradingStateChanged, lambda m: m.reason == "journal unreadable")
    assert state.state is HALTED
    assert state.reasons[0] == (
        "operator state unreadable (DatabaseError('file is not a database')); resume to trade"
    )
    clean(tree)
    assert tree.snapshot(1).state is HALTED
    assert tree.risk.ask(command(Resume, "checked"), timeout_s=5) is ACTIVE
