"""The control plane on the real trading actors: trading helpers, operator actions, status."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from perpsbot.bot.control import BotControl, TradingOperator
from perpsbot.errors import AskTimeoutError
from perpsbot.ids import client_order_id
from perpsbot.messages import Halt, PlaceOrder, Side, TimeInForce, TradingState
from perpsbot.runtime.testing import eventually
from perpsbot.sim import SimConfig, SimExchange
from tests.actors.execution.executor_harness import make_intent
from tests.bot.control.trading_tree import MARK, SYMBOL, TradingBot, trading_bot


@pytest.fixture
def sim() -> Iterator[SimExchange]:
    config = SimConfig(
        verify_auth=False, tick_interval_s=None, seed=5, balances=(("USD", Decimal(100_000)),)
    )
    with SimExchange(config) as sim:  # no coins: the bot starts flat
        yield sim


@pytest.fixture
def bot(sim: SimExchange, tmp_path: Path) -> Iterator[TradingBot]:
    with trading_bot(sim, tmp_path / "journal.sqlite3") as bot:
        yield bot


def test_halt_answers_halted_only_once_the_journal_holds_it(bot: TradingBot) -> None:
    answer = bot.ops("shell uid=1000 pid=7").halt("test")

    assert answer.startswith("trading HALTED (")
    assert "committed to the journal" in answer
    with bot.reader() as journal:  # read at once: the answer waited for the commit
        assert journal.last_operator_command() == Halt(
            message_id=journal.last_operator_command().message_id,  # type: ignore[union-attr]
            ts_created_ns=journal.last_operator_command().ts_created_ns,  # type: ignore[union-attr]
            reason="test",
            operator="shell uid=1000 pid=7",
        )
        last = journal.last_trading_state()
        assert last is not None
        assert last.state is TradingState.HALTED
        audit = journal.operator_actions()
    assert [(a.operator, a.action, a.detail) for a in audit] == [
        ("shell uid=1000 pid=7", "halt", "test")
    ]  # risk journals it; the control plane does not record it twice
    assert audit[0].outcome.startswith("trading halted")
    trading = bot.ops().trading()
    assert trading["state"] == "halted"
    assert any("test" in reason for reason in trading["reasons"])


def test_resume_returns_to_what_the_automatic_conditions_allow(bot: TradingBot) -> None:
    ops = bot.ops()
    ops.halt("maintenance")
    bot.sample(age_s=60)
    eventually(lambda: len(bot.risk().reasons) > 1, what="stale marks to hold trading too")

    answer = ops.resume("maintenance done")

    assert answer.startswith("trading REDUCING (")
    assert "maintenance" not in answer.splitlines()[0]
    bot.sample()
    bot.wait_state("active")
    assert ops.reduce_only("winding down").startswith("trading REDUCING (")
    assert ops.resume().startswith("trading ACTIVE")
    with bot.reader() as journal:
        actions = [(a.action, a.detail) for a in journal.operator_actions()]
        assert journal.last_trading_state().state is TradingState.ACTIVE  # type: ignore[union-attr]
    assert actions == [
        ("halt", "maintenance"),
        ("resume", "maintenance done"),
        ("reduce_only", "winding down"),
        ("resume", "resumed by the operator"),
    ]


def test_a_reason_is_required_and_a_refused_action_is_audited(bot: TradingBot) -> None:
    with pytest.raises(ValueError, match="Halt needs a reason"):
        bot.ops().halt(" ")
    assert bot.risk().state == "active"

    def audited() -> list[str]:
        with bot.reader() as journal:
            return [a.outcome for a in journal.operator_actions()]

    outcomes = eventually(audited, what="the failed halt in the audit")
    assert outcomes == ["failed: Halt needs a reason for the audit; it was empty"]


def test_orders_positions_and_pnl_show_a_filled_order(bot: TradingBot) -> None:
    ops = bot.ops()
    made = bot.intent(size="0.002")
    coid = client_order_id(made.intent_id)

    def filled() -> bool:
        rows = {row["client_order_id"]: row for row in ops.orders()}
        return coid in rows and rows[coid]["status"] == "filled"

    eventually(filled, what="the order filled")
    row = next(r for r in ops.orders() if r["client_order_id"] == coid)
    assert (row["symbol"], row["side"], row["purpose"]) == (SYMBOL, "BUY", "entry")
    assert row["size"] == row["filled"] == Decimal("0.002")
    assert row["avg_price"] > 0

    eventually(lambda: bot.risk().positions.get(SYMBOL) == Decimal("0.002"), what="the position")
    before_snapshot = next(iter(ops.positions()))  # risk holds it; no snapshot showed it yet
    assert (before_snapshot["quantity"], before_snapshot["mark"]) == (Decimal("0.002"), None)
    bot.sample()
    eventually(
        lambda: [row["mark"] for row in ops.positions()] == [Decimal(MARK)],
        what="a snapshot with the position",
    )
    position = next(iter(ops.positions()))
    assert position["quantity"] == Decimal("0.002")
    assert position["mark"] == Decimal(MARK)
    assert position["notional"] == Decimal("0.002") * Decimal(MARK)
    assert position["unrealized"] == Decimal("0.002") * (Decimal(MARK) - position["entry"])
    pnl = {row["symbol"]: row for row in ops.pnl()}
    assert pnl["total"]["unrealized"] == position["unrealized"]
    assert pnl["total"]["net"] == (
        pnl["total"]["realized"] - pnl["total"]["fees"] + pnl["total"]["funding"]
        + pnl["total"]["unrealized"]
    )  # fmt: skip
    assert "equity" in ops.pnl().title


def test_a_control_plane_attached_late_reads_earlier_orders_and_passes_from_the_journal(
    bot: TradingBot,
) -> None:
    made = bot.intent(size="0.002")
    coid = client_order_id(made.intent_id)

    def settled() -> bool:  # filled, its fill booked: published filled, to the journal too
        executor = bot.system.state("bot/executor")
        return executor.orders.get(coid) == "filled" and coid not in executor.unsettled

    eventually(settled, what="the order filled and settled")
    bot.ops().halt("sync the journal")  # answers once the journal holds all before it
    bot.clock.advance(1.0)

    late = BotControl(bot.system, config=bot.control.config)
    try:
        row = next(r for r in late.operator().orders() if r["client_order_id"] == coid)
        reconciliation = late.operator().trading()["reconciliation"]
    finally:
        late.close()
    assert (row["status"], row["size"], row["filled"]) == (
        "filled",
        Decimal("0.002"),
        Decimal("0.002"),
    )
    assert reconciliation["last"] is None  # it ended before this control plane opened


def test_cancel_all_cancels_a_resting_order_and_is_audited(bot: TradingBot) -> None:
    ops = bot.ops("operator-a")
    made = bot.intent(size="0.002", limit="60000", tif=TimeInForce.GTC, side=Side.BUY)
    coid = client_order_id(made.intent_id)
    eventually(
        lambda: bot.system.state("bot/executor").orders.get(coid) == "acknowledged",
        what="the order resting on the book",
    )

    answer = ops.cancel_all()

    assert answer.startswith("1 open orders before cancel_all (orders): ")
    eventually(
        lambda: bot.system.state("bot/executor").orders[coid] == "cancelled",
        what="the order cancelled",
    )
    assert len(ops.orders(recent=0)) == 0

    def audited() -> list[tuple[str, str, str]]:
        with bot.reader() as journal:
            return [(a.operator, a.action, a.detail) for a in journal.operator_actions()]

    assert eventually(audited, what="cancel_all in the audit") == [("operator-a", "cancel_all", "")]


def test_status_carries_the_trading_state_pnl_orders_and_reconciliation(
    bot: TradingBot,
) -> None:
    bot.ops().halt("looking")
    status = bot.control.status()
    trading = status["trading"]
    assert trading["state"] == "halted"
    assert any("looking" in r for r in trading["reasons"])
    assert Decimal(trading["equity"]) > 0
    assert trading["open_orders"] == 0
    assert trading["positions"] == 0
    assert trading["reconciliation"]["done"] is True
    assert trading["reconciliation"]["passes"] >= 1
    last = trading["reconciliation"]["last"]
    assert last["success"] is True
    assert last["startup"] is True
    text = bot.control.render(status)
    assert "trading   HALTED (" in text
    assert "0 open orders, 0 positions; reconciliation done (" in text


def _samples(registry: CollectorRegistry) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = generate_latest(registry).decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_count_orders_by_status_and_denials_by_rule_and_by_who_denied(
    bot: TradingBot,
) -> None:
    registry = CollectorRegistry(auto_describe=False)
    for collector in bot.control.collectors():
        registry.register(collector)

    def value(name: str, **labels: str) -> float:
        return _samples(registry)[(name, tuple(sorted(labels.items())))]

    bot.intent(size="0.002")
    filled = ("perpsbot_orders_total", {"status": "filled", "terminal": "true"})
    eventually(lambda: value(filled[0], **filled[1]) == 1, what="the order counted filled")
    for status in ("pending_submit", "submitted", "acknowledged"):
        assert value("perpsbot_orders_total", status=status, terminal="false") == 1
    assert value("perpsbot_orders_total", status="rejected", terminal="true") == 0
    eventually(lambda: value("perpsbot_fills_total") >= 1, what="the fill counted")
    assert value("perpsbot_open_orders") == 0
    eventually(lambda: bot.risk().positions.get(SYMBOL) == Decimal("0.002"), what="the position")
    bot.sample()
    notional = ("perpsbot_position_notional_usd", (("symbol", SYMBOL),))
    eventually(lambda: notional in _samples(registry), what="the position in a risk snapshot")
    assert value("perpsbot_position_notional_usd", symbol=SYMBOL) == float(
        Decimal("0.002") * Decimal(MARK)
    )
    assert value("perpsbot_exposure_usd") == value("perpsbot_position_notional_usd", symbol=SYMBOL)

    bot.ops().halt("metrics")
    assert value("perpsbot_trading_state", state="halted") == 1
    assert value("perpsbot_trading_state", state="active") == 0
    bot.intent(size="0.002")  # risk denies it
    late = make_intent(bot.clock, "bypass", mark=MARK)  # as if risk had let it through
    bot.system.address("bot/executor").tell(
        PlaceOrder(
            message_id="place-bypass", ts_created_ns=bot.clock.time_ns(),
            correlation_id=late.message_id, intent=late, checked_mark=Decimal(MARK),
        )
    )  # fmt: skip

    def denials() -> dict[str, float]:
        return {
            dict(labels)["denied_by"]: count
            for (name, labels), count in _samples(registry).items()
            if name == "perpsbot_order_denials_total" and dict(labels)["rule"] == "halted"
        }

    assert eventually(lambda: len(denials()) == 2 and denials(), what="both denials") == {
        "risk": 1,
        "executor": 1,
    }


def test_readiness_waits_for_the_startup_reconciliation(sim: SimExchange, tmp_path: Path) -> None:
    sim.faults.http_error(500, count=10_000, path="/market/products")
    with trading_bot(sim, tmp_path / "journal.sqlite3", ready=False) as bot:

        def reconciliation_problem() -> str | None:
            problems = bot.control.health().problems
            return next((p for p in problems if p.startswith("reconciliation: ")), None)

        eventually(
            lambda: bot.system.state("bot/executor").reconciliation_failures == 1,
            what="the first attempt failed",
        )
        assert reconciliation_problem() == (
            "reconciliation: the startup reconciliation with the venue is not done"
            " (1 failed attempts)"
        )
        sim.faults.clear()
        bot.clock.advance(1.0)  # the executor's first retry
        eventually(lambda: reconciliation_problem() is None, what="the retry to succeed")
        assert bot.ops().trading()["reconciliation"]["done"] is True


def test_a_halt_the_journal_cannot_commit_is_not_answered_as_durable(bot: TradingBot) -> None:
    ops = TradingOperator(
        bot.system, root="bot", watch=bot.control.watch, operator="tester", sync_timeout_s=0.3
    )
    other = sqlite3.connect(bot.journal_path, isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
        with pytest.raises(AskTimeoutError, match="trading is halted, but the journal did not"):
            ops.halt("disk trouble")
        assert bot.risk().state == "halted"  # applied: only its durability is in doubt
    finally:
        other.close()
