"""The trading state machine without threads: how each condition holds and clears."""

from __future__ import annotations

from typing import Any

from perpsbot.actors._trading_state import TradingConditions
from perpsbot.messages import Halt, ReduceOnly, Resume, TradingState
from tests.actors.trading import D, bot_config

ACTIVE, REDUCING, HALTED = TradingState.ACTIVE, TradingState.REDUCING, TradingState.HALTED
FRESH = {"BTC-USD": 1.0}


def conditions(**risk: Any) -> TradingConditions:
    return TradingConditions(bot_config(risk=risk), watched=["bot/executor"])


def all_clear(**risk: Any) -> TradingConditions:
    state = conditions(**risk)
    state.reconciled(success=True)
    state.watched("bot/executor", up=True)
    state.marks(FRESH)
    return state


def test_it_starts_reducing_until_reconciled_with_the_executor_up_and_fresh_marks() -> None:
    state = conditions()
    assert state.state is REDUCING
    assert state.reasons == (
        "bot/executor not started yet",
        "not reconciled with the venue yet",
    )
    state.reconciled(success=True)
    state.watched("bot/executor", up=True)
    state.marks({"BTC-USD": None})
    assert state.reasons == ("stale marks for BTC-USD (no mark yet)",)
    state.marks(FRESH)
    assert (state.state, state.reasons) == (ACTIVE, ())


def test_marks_are_fresh_up_to_max_mark_age() -> None:
    state = all_clear(max_mark_age_s=30.0)
    state.marks({"BTC-USD": 30.0})
    assert state.state is ACTIVE
    state.marks({"BTC-USD": 30.01})
    assert state.reasons == ("stale marks for BTC-USD (mark older than max_mark_age_s 30)",)


def test_a_failed_or_new_reconciliation_holds_until_one_succeeds() -> None:
    state = all_clear()
    state.reconciling("startup")
    assert state.reasons == ("reconciling with the venue (startup)",)
    state.reconciled(success=False, error="venue timed out")
    assert state.reasons == ("reconciliation failed: venue timed out",)
    state.reconciled(success=True)
    assert state.state is ACTIVE


def test_a_watched_actor_down_reduces_until_it_is_up() -> None:
    state = all_clear()
    state.watched("bot/executor", up=False)
    assert state.reasons == ("bot/executor is down (restarting)",)
    state.watched("bot/executor", up=True)
    assert state.state is ACTIVE


def test_an_operator_halt_outlives_every_automatic_condition_until_resumed() -> None:
    state = conditions()
    state.command(Halt, "maintenance", "alice")
    assert state.state is HALTED
    state.reconciled(success=True)
    state.watched("bot/executor", up=True)
    state.marks(FRESH)
    assert (state.state, state.reasons) == (HALTED, ("halted by alice: maintenance",))
    state.command(Resume, "done", "alice")
    assert state.state is ACTIVE


def test_resume_does_not_lift_automatic_conditions() -> None:
    state = conditions()
    state.command(ReduceOnly, "watching", "bob")
    state.command(Resume, "ok", "bob")
    assert state.state is REDUCING
    assert "not reconciled with the venue yet" in state.reasons


def test_the_config_kill_switch_halts_and_reduce_only_reduces() -> None:
    assert all_clear(kill_switch=True).reasons == ("risk.kill_switch is on",)
    state = all_clear(reduce_only=True)
    assert (state.state, state.reasons) == (REDUCING, ("risk.reduce_only is on",))
    state.command(Resume, "try", "carol")
    assert state.state is REDUCING  # config is not an operator latch
    state.configure(bot_config())
    assert state.state is ACTIVE


def test_the_daily_loss_trips_past_the_limit_and_clears_with_the_day() -> None:
    state = all_clear(daily_loss_limit_usd=D(100))
    assert state.day_pnl(D(-100)) is None
    assert state.state is ACTIVE
    tripped = state.day_pnl(D("-100.01"))
    assert (
        tripped == "daily loss 100.01 USD exceeds daily_loss_limit_usd 100 (until the UTC day ends)"
    )
    assert state.state is REDUCING
    assert state.day_pnl(D(-500)) is None  # tripped once: the caller cancels once
    assert state.day_pnl(D(0)) is None
    assert state.state is REDUCING  # a recovery within the day does not lift it
    state.new_day()
    assert state.state is ACTIVE


def calm_then(state: TradingConditions, *marks: str) -> list[tuple[bool, str | None]]:
    return [state.sample("BTC-USD", D(m)) for m in marks]


def test_volatility_warns_then_reduces_then_asks_for_a_halt() -> None:
    state = all_clear(volatility_window=3, volatility_warn=D("0.005"), volatility_reduce=D("0.01"))
    assert calm_then(state, "100", "100", "100.1") == [(False, None)] * 3
    halt, news = state.sample("BTC-USD", D("101.1"))  # returns +0.1%, +1.0%: 0.0064
    assert (halt, news) == (
        False,
        "BTC-USD volatility 0.00636 (stdev of 2 sample returns) exceeds volatility_warn 0.005",
    )
    assert state.state is ACTIVE
    halt, news = state.sample("BTC-USD", D("100"))  # +1.0%, -1.1%: 0.0148
    assert not halt
    assert news is not None
    assert "exceeds volatility_reduce 0.01" in news
    assert state.state is REDUCING
    halt, news = state.sample("BTC-USD", D("105"))  # -1.1%, +5%: 0.043
    assert halt
    assert news is not None
    assert "exceeds volatility_halt 0.02" in news
    calm_then(state, "105", "105", "105")
    assert state.state is ACTIVE  # REDUCING clears when it calms; a halt is the caller's latch


def test_a_volatility_halt_is_asked_for_again_only_when_not_halted_already() -> None:
    state = all_clear(volatility_window=3)
    calm_then(state, "100", "110")
    assert state.sample("BTC-USD", D("90"))[0]
    state.command(Halt, "volatility breaker", "risk")
    assert state.sample("BTC-USD", D("110")) == (False, None)
    state.command(Resume, "calm again?", "alice")
    assert state.sample("BTC-USD", D("90"))[0]  # still past the threshold: halted again


def test_the_journal_halts_until_read_and_an_unreadable_journal_until_resumed() -> None:
    state = TradingConditions(bot_config(), journal_pending=True)
    state.reconciled(success=True)
    state.marks(FRESH)
    assert state.reasons == ("reading the operator's last command from the journal",)
    state.journal_read()
    assert state.state is ACTIVE
    state.journal_unreadable("DatabaseError('file is not a database')")
    assert state.state is HALTED
    state.command(Resume, "checked by hand", "dave")
    assert state.state is ACTIVE


def test_a_snapshot_restores_every_hold() -> None:
    state = all_clear()
    state.command(Halt, "x", "eve")
    calm_then(state, "100", "101")
    successor = TradingConditions(bot_config())
    successor.restore(state.snapshot(), bot_config())
    assert (successor.state, successor.reasons) == (HALTED, ("halted by eve: x",))


def test_a_symbol_no_longer_configured_stops_holding() -> None:
    state = all_clear()
    state.marks({"BTC-USD": None})
    state.configure(bot_config(symbols=("ETH-USD",)))
    assert state.state is ACTIVE
