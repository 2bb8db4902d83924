"""The trading state machine without threads: how each condition holds and clears."""

from __future__ import annotations

from typing import Any

from perpsbot.actors.risk._check import OrderCheck, first_denial
from perpsbot.actors.risk._rules import order_rules
from perpsbot.actors.risk._trading_state import TradingConditions
from perpsbot.actors.strategy._decisions import Action, Params, Situation, decide
from perpsbot.actors.strategy._trailing_stop import TrailingStop
from perpsbot.messages import (
    Halt,
    IntentPurpose,
    ReduceOnly,
    Resume,
    Side,
    TradingState,
)
from tests.actors.trading import D, bot_config, intent, sample, spot

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


def calm_then(state: TradingConditions, *marks: str) -> list[str | None]:
    return [state.sample("BTC-USD", D(m)) for m in marks]


BREAKER = "volatility breaker tripped: "


def tripped(state: TradingConditions) -> list[str]:
    return [r for r in state.reasons if r.startswith(BREAKER)]


def test_volatility_warns_then_reduces_then_trips_the_breaker() -> None:
    state = all_clear(volatility_window=3, volatility_warn=D("0.005"), volatility_reduce=D("0.01"))
    assert calm_then(state, "100", "100", "100.1") == [None] * 3
    news = state.sample("BTC-USD", D("101.1"))  # returns +0.1%, +1.0%: 0.0064
    assert news == (
        "BTC-USD volatility 0.00636 (stdev of 2 sample returns) exceeds volatility_warn 0.005"
    )
    assert state.state is ACTIVE
    news = state.sample("BTC-USD", D("100"))  # +1.0%, -1.1%: 0.0148
    assert news is not None
    assert "exceeds volatility_reduce 0.01" in news
    assert state.state is REDUCING
    assert tripped(state) == []
    news = state.sample("BTC-USD", D("105"))  # -1.1%, +5%: 0.043
    assert news is not None
    assert "exceeds volatility_halt 0.02" in news
    assert state.state is REDUCING  # the breaker stops entries, never exits
    assert tripped(state) == [
        f"{BREAKER}{news}; no entries until an operator resumes",
    ]


def test_the_tripped_breaker_holds_at_reducing_when_calm_until_an_operator_resumes() -> None:
    state = all_clear(volatility_window=3)
    calm_then(state, "100", "110", "90")
    calm_then(state, "90", "90", "90")
    assert state.state is REDUCING  # calm: the window's hold cleared, the trip did not
    assert len(state.reasons) == 1
    assert tripped(state) == list(state.reasons)
    state.command(Resume, "looked at it", "alice")
    assert (state.state, state.reasons) == (ACTIVE, ())


def test_after_a_resume_the_spike_still_in_the_window_does_not_trip_the_breaker_again() -> None:
    state = all_clear(volatility_window=3)
    calm_then(state, "100", "110", "90")
    state.command(Resume, "let the stop out", "alice")
    calm_then(state, "90")  # returns -18%, 0: still past volatility_halt
    assert state.state is REDUCING  # past volatility_reduce, and only that
    assert tripped(state) == []
    assert state.reasons[0].startswith("BTC-USD volatility 0.1285")
    calm_then(state, "90")
    assert state.state is ACTIVE  # the spike left the window
    calm_then(state, "100", "110")  # a new breach trips it again
    assert len(tripped(state)) == 1


def test_the_breaker_never_overwrites_an_operators_reduce_only_or_halt() -> None:
    state = all_clear(volatility_window=3)
    state.command(ReduceOnly, "watching", "bob")
    calm_then(state, "100", "110", "90")
    assert state.state is REDUCING
    assert "reduce-only by bob: watching" in state.reasons
    assert len(tripped(state)) == 1
    state.command(Halt, "stop everything", "bob")
    calm_then(state, "90", "90", "110")  # calm, then a new breach trips it again
    assert state.state is HALTED
    assert state.reasons[0] == "halted by bob: stop everything"
    assert tripped(state)[0].startswith(f"{BREAKER}BTC-USD volatility 0.15713")
    state.command(ReduceOnly, "exits only", "bob")
    calm_then(state, "110", "110", "110")
    assert state.state is REDUCING
    assert "reduce-only by bob: exits only" in state.reasons
    state.command(Resume, "all clear", "bob")
    assert state.state is ACTIVE  # Resume lifts the operator's latch and the breaker's


def test_a_gap_that_trips_the_stop_and_the_breaker_together_lets_the_stop_exit() -> None:
    """The review's scenario (REVIEW.md section 2): long 1 with a 1% trailing stop, marks 100
    then a gap to 94, 90, 85 with a window of 5. The breaker trips on the gap; the stop's
    exit is decided and risk's rules let it through on each sample."""
    config = bot_config(risk={"volatility_window": 5})
    state = all_clear(volatility_window=5)
    params = Params.from_config(config)
    rules = order_rules(config.risk)
    marks = [D(100)] * 5 + [D(94), D(90), D(85)]
    stop = TrailingStop(long=True, pct=D("0.01"), peak=D(100))
    exits = []
    for i, mark in enumerate(marks):
        state.sample("BTC-USD", mark)
        situation = Situation(
            sample=sample(marks[max(0, i - 4) : i + 1]),
            position=D(1),
            stop=stop,
            state=state.state,
            equity=D(10_000),
        )
        decided = decide(situation, params)
        stop = decided.stop
        if decided.action is Action.HOLD:
            continue
        exit_intent = intent(Side.SELL, 1, purpose=IntentPurpose.EXIT)
        check = OrderCheck(
            intent=exit_intent,
            mark=mark,
            mark_age_s=0.1,
            position=D(1),
            product=spot(),
            equity=D(10_000),
            state=state.state,
            reasons=state.reasons,
        )
        exits.append((mark, state.state, first_denial(rules, check)))
    assert exits == [(D(94), REDUCING, None), (D(90), REDUCING, None), (D(85), REDUCING, None)]
    assert len(tripped(state)) == 1


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
    state = all_clear(volatility_window=3)
    state.command(Halt, "x", "eve")
    calm_then(state, "100", "110", "90", "90", "90")
    config = bot_config(risk={"volatility_window": 3})
    successor = TradingConditions(config)
    successor.restore(state.snapshot(), config)
    assert (successor.state, successor.reasons) == (HALTED, state.reasons)
    assert successor.reasons[0] == "halted by eve: x"
    assert len(tripped(successor)) == 1
    successor.command(Resume, "y", "eve")
    assert successor.state is ACTIVE


def test_a_symbol_no_longer_configured_stops_holding() -> None:
    state = all_clear()
    state.marks({"BTC-USD": None})
    state.configure(bot_config(symbols=("ETH-USD",)))
    assert state.state is ACTIVE


def test_a_start_is_starting_until_its_first_reconciliation_succeeds() -> None:
    state = TradingConditions(
        bot_config(), watched=["bot/executor"], journal_pending=True, book_pending=True
    )
    assert (state.state, state.starting) == (HALTED, True)  # reading the journal: no halt
    state.journal_read()
    state.book_read()
    state.marks({"BTC-USD": None})
    state.reconciling("startup")
    assert (state.state, state.starting) == (REDUCING, True)
    state.reconciled(success=True)
    assert state.starting is False  # what holds now is no start's: the executor is not up
    state.watched("bot/executor", up=False)
    assert (state.state, state.starting) == (REDUCING, False)


def test_a_start_held_by_a_person_or_an_unreadable_journal_is_not_just_starting() -> None:
    halted = TradingConditions(bot_config(), journal_pending=True)
    halted.command(Halt, "drill", "alice")
    assert (halted.state, halted.starting) == (HALTED, False)
    killed = TradingConditions(bot_config(risk={"kill_switch": True}))
    assert killed.starting is False
    unreadable = TradingConditions(bot_config(), journal_pending=True)
    unreadable.journal_unreadable("disk error")
    assert (unreadable.state, unreadable.starting) == (HALTED, False)
