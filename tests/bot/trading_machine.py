"""The stateful test's machine: the bot, a faulty venue, an operator and time as the rules of a
Hypothesis :class:`~hypothesis.stateful.RuleBasedStateMachine`, and the money invariants
checked after every step (see :mod:`tests.bot.test_trading_stateful`)."""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import attrs
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from perpsbot.messages import (
    Halt,
    IntentPurpose,
    OrderDenied,
    PlaceOrder,
    ReduceOnly,
    Resume,
    SignalsEvaluated,
    TradingState,
)
from perpsbot.sim import DuplicateClientOrderId, SimFaults
from tests.bot.stateful_bot import RECONCILE_S, StatefulBot, open_bot
from tests.bot.stateful_venue import CONTRACT_SIZE, OWNERS_COINS, PERP, SYMBOLS

#: Why an exit may be refused without an operator's halt: a passing state the strategy decides
#: again from on its next sample (a new process that has not reconciled or loaded the products
#: yet, an old mark, an intent past its TTL), or a size that does not fit what is left to
#: reduce (another exit is on its way, or the position changed). Whether the position is
#: closed in the end, :meth:`TradingMachine.settle` checks.
PASSING_EXIT_DENIALS = frozenset(
    {
        "reconciliation_pending", "product", "mark_staleness", "intent_expired",
        "reduce_only", "spot_short",
    }
)  # fmt: skip
ORDERS_PATH = "/orders"
FILLS_PATH = "/orders/historical/fills"


@attrs.frozen
class Fault:
    """One venue fault the machine arms: what it is, and how to arm it."""

    name: str
    arm: Callable[[SimFaults], None] = attrs.field(eq=False)

    def __repr__(self) -> str:
        return f"Fault({self.name!r})"


def _http_error(status: int, count: int, path: str) -> Fault:
    return Fault(
        f"{path} answers {status} x{count}",
        lambda f: f.http_error(status, count=count, path=path),
    )


def _lost_acks(count: int) -> Fault:
    return Fault(f"{count} create answer(s) lost", lambda f: f.lose_order_ack(count))


def _hidden(seconds: float) -> Fault:
    return Fault(f"new orders hidden for {seconds:g}s", lambda f: f.delay_order_visibility(seconds))


def _duplicates(behaviour: DuplicateClientOrderId) -> Fault:
    return Fault(
        f"a reused client order id: {behaviour.value}",
        lambda f: f.duplicate_client_order_id(behaviour),
    )


def _dropped_feeds() -> Fault:
    return Fault("every websocket dropped", lambda f: f.disconnect_all(close_code=None))


FAULTS = [
    _dropped_feeds(),
    _http_error(500, 3, FILLS_PATH),
    _http_error(500, 50, FILLS_PATH),  # until cleared
    _http_error(429, 4, ORDERS_PATH),  # every attempt of one request
    _http_error(503, 1, ORDERS_PATH),
    _http_error(500, 12, ORDERS_PATH),
    _lost_acks(1),
    _lost_acks(3),
    _hidden(5.0),
    _hidden(25.0),
    *(_duplicates(b) for b in DuplicateClientOrderId),
]
MAYBE = st.one_of(st.none(), st.sampled_from(FAULTS))
COINS = st.sampled_from(["BTC", "ETH"])
#: A gap of 5% crosses the averages (an entry); smaller rises move a stop's peak.
RISES = [0.05, 0.08, 0.003, 0.012, 0.02]
#: Past the 1% stop (a gap of 15% trips the volatility breaker too), or within it.
FALLS = [-0.015, -0.05, -0.15, -0.03, -0.1, -0.003, -0.006]


class TradingMachine(RuleBasedStateMachine):
    """The bot, a faulty venue, an operator and time (see the module docstring)."""

    examples = itertools.count()

    def __init__(self, directory: Path) -> None:
        super().__init__()
        self.directory = directory / f"example-{next(self.examples)}"
        self.directory.mkdir()
        self._bot: StatefulBot | None = None
        self.halted = False
        self.largest_entry: dict[str, Decimal] = {}
        self.entry_prices: dict[str, Decimal] | None = None
        self.position_prices: dict[str, Decimal] = {}
        self.exits: set[str] = set()  # the intent ids of the strategy's exits
        self.seen = 0  # events of the bot's processes examined so far
        self.armed = 0  # faults armed since they were last cleared
        self.steps = 0  # steps since the last settle

    @property
    def bot(self) -> StatefulBot:
        assert self._bot is not None, "the machine has not started"
        return self._bot

    # -- the start -------------------------------------------------------------------------

    @initialize(
        max_exposure_usd=st.sampled_from([1_200, 2_000, 3_500]),
        duplicates=st.sampled_from(DuplicateClientOrderId),
        opening=st.sampled_from(["BTC", "ETH", None]),
    )
    def start(
        self, max_exposure_usd: int, duplicates: DuplicateClientOrderId, opening: str | None
    ) -> None:
        """A bot on a new exchange (which answers reused ids as ``duplicates``), warmed up, and
        maybe holding positions: an ``opening`` rise of 5% enters."""
        self._bot = open_bot(
            self.directory,
            seed=7,
            max_exposure_usd=Decimal(max_exposure_usd),
            duplicates=duplicates,
        )
        for _ in range(8):  # fresh marks, a reconciled executor, full windows
            self.bot.sample()
        if opening is not None:
            self.bot.move(opening, 0.05)
            self.bot.sample()

    def teardown(self) -> None:
        if self._bot is not None:
            self._bot.close()
        shutil.rmtree(self.directory, ignore_errors=True)

    # -- rules -----------------------------------------------------------------------------

    def _move(self, coin: str, fraction: float, cycles: int, fault: Fault | None) -> None:
        self.steps += 1
        if fault is not None:
            self.arm(fault)
        self.bot.move(coin, fraction)
        for _ in range(cycles):
            self.bot.sample()

    @rule(coin=COINS, fraction=st.sampled_from(RISES), cycles=st.integers(0, 3), fault=MAYBE)
    def rise(self, coin: str, fraction: float, cycles: int, fault: Fault | None) -> None:
        """Maybe a fault, a price rise, then samples (the strategy decides, risk checks,
        orders go out)."""
        self._move(coin, fraction, cycles, fault)

    @rule(coin=COINS, fraction=st.sampled_from(FALLS), cycles=st.integers(1, 3), fault=MAYBE)
    def fall(self, coin: str, fraction: float, cycles: int, fault: Fault | None) -> None:
        """Maybe a fault, a price fall, then samples."""
        self._move(coin, fraction, cycles, fault)

    @rule(cycles=st.integers(1, 3))
    def sample(self, cycles: int) -> None:
        self.steps += 1
        for _ in range(cycles):
            self.bot.sample()

    @rule(seconds=st.sampled_from([2.0, RECONCILE_S, 31.0]))
    def advance(self, seconds: float) -> None:
        self.steps += 1
        self.bot.advance(seconds)

    @rule(fault=st.sampled_from(FAULTS))
    def arm(self, fault: Fault) -> None:
        fault.arm(self.bot.sim.faults)
        self.armed += 1
        self.steps += 1

    @precondition(lambda self: self.armed > 0)
    @rule()
    def clear_faults(self) -> None:
        self.bot.sim.faults.clear()
        self.armed = 0

    @rule(kind=st.sampled_from([Halt, ReduceOnly, Resume]))
    def operator(self, kind: type[Halt | ReduceOnly | Resume]) -> None:
        self.steps += 1
        state = self.bot.command(kind)
        self.halted = kind is Halt
        if kind is Halt:
            assert state is TradingState.HALTED, f"an operator's Halt left trading {state}"

    @rule(mid_flight=st.booleans())
    def restart(self, mid_flight: bool) -> None:
        """Stop the process and start a new one on the same journal and exchange; maybe just
        after a sample was due, while what it decided is on its way."""
        self.steps += 1
        bot = self.bot
        if mid_flight:
            bot.clock.advance(0.5)
        bot.restart()

    @precondition(lambda self: self.armed > 0)
    @rule(mid_flight=st.booleans())
    def restart_under_faults(self, mid_flight: bool) -> None:
        """A restart while faults may have left orders unsettled (twice as likely then)."""
        self.restart(mid_flight)

    @precondition(lambda self: self.steps >= 3)
    @rule()
    def settle(self) -> None:
        """The faults clear: every order settles, the strategy closes what it wants closed,
        and after one more reconciliation the bot, the venue and the journal agree."""
        bot = self.bot
        bot.settle()
        self.armed = self.steps = 0
        for _ in range(4):
            signals = bot.sample()
            closing = [s.symbol for s in signals.signals if s.action == "close"]
            venue = bot.venue.positions()
            still = {s: venue[s] for s in closing if venue[s] != 0}
            assert self.halted or not still, (
                f"the strategy decided to close {closing} with no fault and no halt, and the"
                f" venue still holds {still}: {signals.signals}"
            )
            waiting = [s for s in signals.signals if s.reason.startswith("waiting for intent")]
            assert not waiting, f"with no fault the strategy still waits: {waiting}"
            if not closing:
                break
        bot.reconcile()
        portfolio, venue = bot.portfolio(), bot.venue.positions()
        assert portfolio[PERP] == venue[PERP], (
            f"after a clean reconciliation the portfolio holds {portfolio[PERP]} {PERP},"
            f" the venue {venue[PERP]}"
        )
        fills = bot.venue.fills()
        bought = dict.fromkeys(SYMBOLS, Decimal(0))
        for fill in fills:
            bought[fill.product_id] += fill.size if fill.side == "BUY" else -fill.size
        for symbol in SYMBOLS:
            if symbol != PERP:
                assert portfolio[symbol] == bought[symbol], (
                    f"after a clean reconciliation the portfolio holds {portfolio[symbol]}"
                    f" {symbol}, the bot's own fills at the venue add up to {bought[symbol]}"
                )
        bot.committed()
        lost = {f.entry_id or f.trade_id for f in fills} - bot.journaled_fill_ids()
        assert not lost, f"the venue lists fills of the bot's that the journal never got: {lost}"
        journal = bot.journal_book()
        assert journal == portfolio, (
            f"the journal's fills and corrections replay to {journal}, the portfolio holds"
            f" {portfolio}"
        )

    # -- invariants ------------------------------------------------------------------------

    @invariant()
    def the_money_invariants_hold(self) -> None:
        """What the bot published since the last step, and what the venue holds now."""
        if self._bot is None:
            return
        events = self.bot.events()
        new, self.seen = events[self.seen :], len(events)
        for event in new:
            if isinstance(event, PlaceOrder):
                self._allowed(event)
            elif isinstance(event, SignalsEvaluated):
                self.exits |= {s.intent_id for s in event.signals if s.action == "close"}
            elif isinstance(event, OrderDenied) and event.intent_id in self.exits:
                self._exit_refused(event)
        wallets = self.bot.venue.wallets()
        for coin, owned in OWNERS_COINS.items():
            assert wallets[coin] >= owned, (
                f"the venue's {coin} wallet holds {wallets[coin]}: the bot sold"
                f" {owned - wallets[coin]} {coin} of the owner's {owned}"
            )
        venue = self.bot.venue.positions(wallets)
        self._only_what_the_strategy_chose(venue)
        self._within_risks_limits(venue)

    def _allowed(self, place: PlaceOrder) -> None:
        """Risk let an order through: an entry is within its limits at the price it checked."""
        intent, risk = place.intent, self.bot.config.risk
        if intent.purpose is not IntentPurpose.ENTRY:
            return
        notional = intent.size * CONTRACT_SIZE[intent.symbol] * place.checked_mark
        assert notional <= risk.max_order_usd, (
            f"risk let an entry of {notional:.2f} USD through, over max_order_usd"
            f" {risk.max_order_usd}: {intent}"
        )
        largest = self.largest_entry.get(intent.symbol, Decimal(0))
        self.largest_entry[intent.symbol] = max(largest, intent.size)
        # Prices move only in the steps that move them, never in one that samples: these are
        # the marks risk checked with.
        self.entry_prices = {**self.bot.marks(), intent.symbol: place.checked_mark}
        self.position_prices[intent.symbol] = place.checked_mark

    def _exit_refused(self, denied: OrderDenied) -> None:
        allowed = PASSING_EXIT_DENIALS | ({"halted"} if self.halted else set())
        assert denied.rule in allowed, (
            f"an exit was refused by {denied.denied_by} ({denied.rule}) without an"
            f" operator's halt: {denied.reason}"
        )

    def _only_what_the_strategy_chose(self, venue: dict[str, Decimal]) -> None:
        """No short (shorts are off; spot cannot be), and never more than one entry: the
        strategy enters only when flat."""
        for symbol, held in venue.items():
            assert held >= 0, (
                f"the venue holds {held} {symbol}: a short the bot never chose"
                if symbol == PERP
                else f"the venue sold {-held} {symbol} more than the bot bought"
            )
            largest = self.largest_entry.get(symbol, Decimal(0))
            assert held <= largest, (
                f"the venue holds {held} {symbol}, more than the largest entry the strategy"
                f" sent ({largest}): an entry on top of a position"
            )

    def _within_risks_limits(self, venue: dict[str, Decimal]) -> None:
        """Since risk last let an entry through, positions only shrank or filled what was in
        flight then: valued at the prices it checked at, they are within the limits it
        checked, if it counted every order in flight."""
        risk = self.bot.config.risk
        for symbol, price in self.position_prices.items():
            notional = abs(venue[symbol]) * CONTRACT_SIZE[symbol] * price
            assert notional <= risk.max_position_usd, (
                f"the venue holds {venue[symbol]} {symbol}, {notional:.2f} USD at the price"
                f" risk last checked an entry at, over max_position_usd {risk.max_position_usd}"
            )
        if self.entry_prices is not None:
            prices = self.entry_prices
            exposure = sum(
                (abs(q) * CONTRACT_SIZE[s] * prices[s] for s, q in venue.items()), Decimal(0)
            )
            assert exposure <= risk.max_exposure_usd, (
                f"the venue holds {exposure:.2f} USD at the prices risk last checked an entry"
                f" at, over max_exposure_usd {risk.max_exposure_usd}: {venue} at {prices}"
            )
