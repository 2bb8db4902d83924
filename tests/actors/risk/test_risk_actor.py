"""RiskActor in a small tree: a recording executor, journal and subscriber around the real actor."""

from __future__ import annotations

import threading

from perpsbot.actors.risk.risk import risk_mailbox
from perpsbot.messages import (
    CancelAllOrders,
    Halt,
    IntentPurpose,
    OperatorActed,
    PlaceOrder,
    PositionChanged,
    ReduceOnly,
    Resume,
    RiskSnapshot,
    Side,
    TradingState,
    TradingStateChanged,
    VenuePosition,
)
from perpsbot.runtime import (
    CommandMailbox,
)
from perpsbot.runtime.testing import eventually, wait_drained
from tests.actors.risk.risk_tree import Tree, tree
from tests.actors.trading import (
    D,
    account,
    all_of_type,
    bot_config,
    command,
    evolve_risk,
    fill,
    intent,
    of_type,
    products,
    reconciled,
    sample,
    sampled,
)
from tests.runtime.conftest import Block, Crash

ACTIVE, REDUCING, HALTED = TradingState.ACTIVE, TradingState.REDUCING, TradingState.HALTED
__all__ = ["tree"]  # the fixture


def test_it_starts_halted_until_the_journal_answers_then_reducing_until_everything_is_clean(
    tree: Tree,
) -> None:
    tree.start(bot_config())
    started = of_type(tree.published, TradingStateChanged)
    assert started.state is HALTED
    assert started.reasons[0] == "reading the operator's last command from the journal"
    assert not started.stops_everything  # fail-closed while reading: unsent orders wait
    first = of_type(tree.published, TradingStateChanged, lambda m: m.state is REDUCING)
    assert "not reconciled with the venue yet" in first.reasons
    assert "stale marks for BTC-USD (no mark yet)" in first.reasons
    tree.activate()
    assert tree.snapshot(2).reasons == ()


def test_an_allowed_intent_reaches_the_executor_checked_at_the_latest_mark(tree: Tree) -> None:
    tree.start(bot_config())
    tree.activate(mark=101)
    order = intent(Side.BUY, "0.5")
    place = tree.place(order)
    assert place.checked_mark == D(101)
    assert place.correlation_id == order.message_id


def test_a_denied_intent_is_published_with_the_rule_and_the_numbers(tree: Tree) -> None:
    tree.start(bot_config(risk={"max_position_usd": D(1_000)}))
    tree.activate(mark=100)
    denial = tree.denied(intent(Side.BUY, "10.5"))
    assert denial.rule == "max_position_usd"
    assert denial.reason == "notional 1,050.00 USD exceeds max_position_usd 1,000 for BTC-USD"
    wait_drained(tree.risk)
    wait_drained(tree.system.address("bot/executor"))  # a PlaceOrder told too would show now
    assert all_of_type(tree.executor, PlaceOrder) == []


def test_a_fill_moves_the_position_and_the_next_snapshot_counts_its_pnl(tree: Tree) -> None:
    tree.start(bot_config())
    tree.activate(mark=100)
    tree.tell(fill(Side.BUY, 2, 100, fee="0.2"))
    changed = of_type(tree.published, PositionChanged)
    assert (changed.position.quantity, changed.entry_fill_price) == (D(2), D(100))
    tree.tell(sampled(2, sample([100, 105])))
    snapshot = of_type(tree.published, RiskSnapshot, lambda m: m.cycle == 2)
    assert (snapshot.unrealized_pnl, snapshot.realized_pnl) == (D(10), D("-0.2"))
    assert snapshot.equity == D("10009.8")
    assert snapshot.daily_pnl == D("9.8")
    assert snapshot.exposure == D(210)
    assert snapshot.state is ACTIVE


def test_a_fill_told_twice_counts_once(tree: Tree) -> None:
    tree.start(bot_config())
    tree.activate()
    twice = fill(Side.BUY, 1, 100, fill_id="f-1")
    tree.tell(twice)
    tree.tell(twice)
    tree.tell(sampled(2, sample([100])))
    snapshot = of_type(tree.published, RiskSnapshot, lambda m: m.cycle == 2)
    assert snapshot.positions[0].quantity == D(1)


def test_funding_the_venue_accrues_counts_in_the_pnl(tree: Tree) -> None:
    tree.start(bot_config())
    tree.activate()
    tree.tell(fill(Side.BUY, 1, 100))

    def held(accrued: int) -> VenuePosition:
        return VenuePosition(
            symbol="BTC-USD", quantity=D(1), average_entry_price=D(100), contract_size=D(1),
            accrued_funding=D(accrued),
        )  # fmt: skip

    tree.tell(account(10_000, held(-1)))  # the first reading: the baseline
    tree.tell(account(10_000, held(-4)))
    booked = of_type(tree.published, PositionChanged, lambda m: m.is_funding)
    assert (booked.position.funding, booked.cause) == (
        D(-3), "funding -3 USD on BTC-USD: the venue's accrued funding is -4 USD"
    )  # fmt: skip
    tree.tell(sampled(2, sample([100])))
    snapshot = of_type(tree.published, RiskSnapshot, lambda m: m.cycle == 2)
    assert (snapshot.realized_pnl, snapshot.daily_pnl) == (D(-3), D(-3))


def test_reconciliation_corrects_positions_to_the_venues_and_says_so(tree: Tree) -> None:
    tree.start(bot_config())
    tree.activate()
    tree.tell(fill(Side.BUY, 1, 100))
    venue = VenuePosition(
        symbol="BTC-USD", quantity=D(3), average_entry_price=D(99), contract_size=D(1)
    )
    tree.tell(account(20_000, venue))
    corrected = of_type(tree.published, PositionChanged, lambda m: m.cause.startswith("reconciled"))
    assert corrected.cause == (
        "reconciled: BTC-USD: quantity 1 corrected to the venue's 3 (average entry 99)"
    )
    assert corrected.position.quantity == D(3)
    tree.tell(sampled(2, sample([100])))
    snapshot = of_type(tree.published, RiskSnapshot, lambda m: m.cycle == 2)
    assert (snapshot.equity, snapshot.daily_pnl) == (D(20_000), D(0))


def test_selling_a_spot_position_read_from_the_wallet_moves_the_position(tree: Tree) -> None:
    # After a process restart the executor reconciles spot to the bot's own holdings, which
    # come without an entry price; the exit's fill must still count (it once crashed risk,
    # which lost the fill and kept the position long).
    tree.start(bot_config())
    tree.activate()
    spot = VenuePosition(
        symbol="BTC-USD", quantity=D(2), average_entry_price=None, contract_size=D(1)
    )
    tree.tell(account(10_000, spot))
    tree.tell(fill(Side.SELL, 2, 101, fill_id="exit"))
    closed = of_type(tree.published, PositionChanged, lambda m: m.cause.startswith("fill exit"))
    assert closed.position.quantity == 0


def test_marks_going_stale_hold_reducing_and_deny_entries(tree: Tree) -> None:
    tree.start(bot_config(risk={"max_mark_age_s": 30.0}))
    tree.activate()
    tree.clock.advance(31.0)  # the periodic check sees the mark age
    state = tree.state(REDUCING)
    assert state.reasons == ("stale marks for BTC-USD (mark older than max_mark_age_s 30)",)
    denial = tree.denied(intent(Side.BUY, "0.1"))
    assert denial.rule == "reduce_only"
    assert tree.snapshot(2).state is ACTIVE


def test_the_executor_restarting_holds_reducing_until_it_is_up(tree: Tree) -> None:
    tree.start(bot_config())
    tree.activate()
    count = len(all_of_type(tree.published, TradingStateChanged))
    tree.system.address("bot/executor").tell(Crash(RuntimeError("executor crashed")))
    eventually(
        lambda: len(all_of_type(tree.published, TradingStateChanged)) >= count + 2,
        what="down and up again",
    )
    down, up = all_of_type(tree.published, TradingStateChanged)[count : count + 2]
    assert (down.state, down.reasons) == (REDUCING, ("bot/executor is down (restarting)",))
    assert up.state is ACTIVE


def test_a_full_executor_mailbox_denies_instead_of_queueing(tree: Tree) -> None:
    def one_command() -> CommandMailbox:
        return CommandMailbox(1, commands=[PlaceOrder])

    tree.start(bot_config(), executor_mailbox=one_command)
    tree.activate()
    block = Block(release=threading.Event())
    tree.system.address("bot/executor").tell(block)
    assert block.entered.wait(5)
    try:
        tree.tell(intent(Side.BUY, "0.1", intent_id="first"))
        denial = tree.denied(intent(Side.BUY, "0.1", intent_id="second"))
    finally:
        block.release.set()
    assert denial.rule == "executor_backlog"
    assert "at most 1 waiting commands" in denial.reason
    of_type(tree.executor, PlaceOrder, lambda m: m.intent.intent_id == "first")


def test_the_order_rate_denies_past_the_limit_and_recovers_after_a_minute(tree: Tree) -> None:
    tree.start(bot_config(risk={"max_orders_per_minute": 2, "max_mark_age_s": 120.0}))
    tree.activate()
    tree.place(intent(Side.BUY, "0.1"))
    tree.place(intent(Side.BUY, "0.1"))
    denial = tree.denied(intent(Side.BUY, "0.1"))
    assert denial.reason == "2 orders in the last 60s already; max_orders_per_minute 2"
    tree.clock.advance(60.0)
    tree.place(intent(Side.BUY, "0.1"))


BREAKER = "volatility breaker tripped: BTC-USD volatility"


def trip_the_breaker_long(tree: Tree) -> None:
    """Long 1 at 100, then a gap (110, 90) that trips the breaker (a window of 4 samples)."""
    tree.start(bot_config(risk={"volatility_window": 4}))
    tree.activate(mark=100)
    tree.tell(fill(Side.BUY, 1, 100))
    tree.snapshot(2, 100)
    tree.snapshot(3, 110)
    tripped = tree.snapshot(4, 90)
    assert tripped.state is REDUCING
    assert any(r.startswith(BREAKER) for r in tripped.reasons)


def test_the_volatility_breaker_stops_entries_not_exits_until_an_operator_resumes(
    tree: Tree,
) -> None:
    trip_the_breaker_long(tree)
    stop_exit = intent(Side.SELL, 1, purpose=IntentPurpose.EXIT)
    assert tree.place(stop_exit).intent == stop_exit  # the stop gets out in the gap
    assert tree.denied(intent(Side.BUY, "0.1")).rule == "reduce_only"
    for cycle in (5, 6):
        tree.snapshot(cycle, 90)
    calm = tree.snapshot(7, 90)
    assert calm.state is REDUCING  # calm again, still no entries
    assert len(calm.reasons) == 1
    assert calm.reasons[0].startswith(BREAKER)
    assert all_of_type(tree.journal, Halt) == []  # the market's verdict, not an operator's
    assert tree.risk.ask(command(Resume), timeout_s=5) is ACTIVE


def test_an_operators_resume_or_reduce_only_survives_the_next_sample_after_a_trip(
    tree: Tree,
) -> None:
    trip_the_breaker_long(tree)
    assert tree.risk.ask(command(ReduceOnly, "exits only"), timeout_s=5) is REDUCING
    spiked = tree.snapshot(5, 90)  # the gap still in the window
    assert "reduce-only by alice: exits only" in spiked.reasons
    assert tree.risk.ask(command(Resume, "let it out"), timeout_s=5) is REDUCING
    spiked = tree.snapshot(6, 90)  # still past volatility_halt: not a new breach
    assert spiked.state is REDUCING  # past volatility_reduce until the gap leaves the window
    assert len(spiked.reasons) == 1
    assert spiked.reasons[0].startswith(
        "BTC-USD volatility 0.10497 (stdev of 3 sample returns) exceeds"
    )
    tree.place(intent(Side.SELL, "0.5", purpose=IntentPurpose.EXIT))
    assert tree.snapshot(7, 90).state is ACTIVE


def test_operator_commands_answer_the_resulting_state_and_are_journaled(tree: Tree) -> None:
    tree.start(bot_config())
    tree.activate()
    assert tree.risk.ask(command(Halt, "maintenance"), timeout_s=5) is HALTED
    assert tree.denied(intent(Side.SELL, "0.1")).rule == "halted"
    assert tree.risk.ask(command(ReduceOnly, "careful"), timeout_s=5) is REDUCING
    assert tree.risk.ask(command(Resume, "done"), timeout_s=5) is ACTIVE
    of_type(tree.journal, OperatorActed, lambda m: m.action == "resume")
    actions = [(m.action, m.outcome) for m in all_of_type(tree.journal, OperatorActed)]
    assert actions == [
        ("halt", "trading halted (halted by alice: maintenance)"),
        ("reduce_only", "trading reducing (reduce-only by alice: careful)"),
        ("resume", "trading active"),
    ]
    assert [type(m) for m in tree.journal.events if isinstance(m, Halt | ReduceOnly | Resume)] == [
        Halt,
        ReduceOnly,
        Resume,
    ]


def test_operator_commands_travel_on_the_priority_lane() -> None:
    mailbox = risk_mailbox()
    queued = intent()
    mailbox.tell(queued)
    halt = command(Halt)
    mailbox.tell(halt)
    assert mailbox.get() is halt
    assert mailbox.get() is queued


def test_state_and_positions_survive_a_restart_of_the_risk_actor(tree: Tree) -> None:
    tree.start(bot_config())
    tree.activate()
    tree.tell(fill(Side.BUY, 2, 100))
    tree.risk.ask(command(ReduceOnly, "watch it"), timeout_s=5)
    tree.tell(Crash(RuntimeError("risk crashed")))
    eventually(lambda: tree.risk.incarnation == 2, what="risk restarted")
    tree.tell(sampled(2, sample([110])))
    snapshot = of_type(tree.published, RiskSnapshot, lambda m: m.cycle == 2)
    assert snapshot.state is REDUCING
    assert snapshot.reasons == ("reduce-only by alice: watch it",)
    assert snapshot.positions[0].quantity == D(2)
    assert snapshot.equity == D(10_020)


def test_a_config_change_applies_new_limits_live(tree: Tree) -> None:
    config = bot_config(risk={"max_order_usd": D(50)})
    tree.start(config)
    tree.activate()
    assert tree.denied(intent(Side.BUY, 1)).rule == "max_order_usd"
    tree.system.reload(evolve_risk(config, max_order_usd=D(500)))
    tree.place(intent(Side.BUY, 1))


def test_only_an_operators_halt_and_the_kill_switch_tell_the_executor_to_stop_everything(
    tree: Tree,
) -> None:
    # Published to the executor in the bot's wiring; it cancels every open order when told
    # so (tests/bot/test_trading_halt_cancels.py).
    config = bot_config()
    tree.start(config)
    tree.activate()
    tree.risk.ask(command(ReduceOnly, "careful"), timeout_s=5)
    tree.risk.ask(command(Halt, "incident 9"), timeout_s=5)
    tree.risk.ask(command(Resume), timeout_s=5)
    tree.system.reload(evolve_risk(config, kill_switch=True))
    tree.system.reload(config)

    def stopping() -> list[str]:
        return [
            m.reason
            for m in all_of_type(tree.published, TradingStateChanged)
            if m.state is not m.previous and m.stops_everything
        ]

    # The reloads reach risk through its supervisor: wait for the kill switch's change itself.
    eventually(lambda: len(stopping()) >= 2, what="the kill switch's stop told")
    wait_drained(tree.risk)
    wait_drained(tree.system.address("bot/executor"))
    assert stopping() == ["halt by alice: incident 9", "configuration changed"]
    assert not all_of_type(tree.executor, CancelAllOrders)


def test_trading_resumes_after_a_reconciliation_only_once_the_portfolio_booked_its_account(
    tree: Tree,
) -> None:
    # The venue's account reaches risk first; until the portfolio's book holds it, trading
    # on the book would act on a position the reconciliation is about to correct.
    tree.start(bot_config())
    tree.tell(products())
    tree.tell(sampled(1, sample([100])))
    venue = account(10_000)
    tree.risk.tell(venue)  # the portfolio has not taken it in yet
    tree.risk.tell(reconciled())
    assert "not reconciled with the venue yet" in tree.snapshot(2).reasons
    tree.portfolio.tell(venue)
    tree.state(ACTIVE)


def test_a_failed_reconciliation_is_not_undone_by_an_older_one_booked_late(tree: Tree) -> None:
    tree.start(bot_config())
    tree.tell(products())
    tree.tell(sampled(1, sample([100])))
    venue = account(10_000)
    tree.risk.tell(venue)
    tree.risk.tell(reconciled())  # waits for the portfolio's book
    tree.risk.tell(reconciled(success=False, error="venue down"))
    tree.portfolio.tell(venue)  # the older success's account, booked after the failure
    snapshot = tree.snapshot(2)
    assert snapshot.state is REDUCING
    assert "reconciliation failed: venue down" in snapshot.reasons


def test_an_operators_halt_and_the_kill_switch_stop_everything_for_the_executor(
    tree: Tree,
) -> None:
    config = bot_config()
    tree.start(config)
    tree.activate()
    tree.risk.ask(command(Halt, "incident"), timeout_s=5)
    halted = of_type(tree.published, TradingStateChanged, lambda m: "incident" in m.reason)
    assert (halted.state, halted.stops_everything) == (HALTED, True)
    tree.risk.ask(command(Resume, "over"), timeout_s=5)
    tree.system.reload(evolve_risk(config, kill_switch=True))
    killed = of_type(
        tree.published, TradingStateChanged, lambda m: m.reason == "configuration changed"
    )
    assert (killed.state, killed.stops_everything) == (HALTED, True)
