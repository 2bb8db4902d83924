"""The trading state machine: the most severe of the conditions holding trading back.

Every condition is a hold: a key, the state it demands (REDUCING or HALTED) and a reason for
people. The effective state is the most severe hold, ACTIVE when none remain, so clearing an
automatic condition can never lift an operator's HALT. The latched holds (an operator's Halt
or ReduceOnly; the volatility breaker's trip; the journal not read yet or unreadable) are
lifted only by an operator's Resume. Everything else clears itself: reconciliation when it
succeeds, the portfolio's book once it is told, a watched actor when it is up again, stale
marks when fresh ones arrive, volatility past ``volatility_reduce`` when it calms, the daily
loss limit when the UTC day ends.

Only an operator's Halt, the kill switch and an unread journal HALT: everything automatic
holds at REDUCING, which stops entries and lets exits through, so a stop can always close a
position unless a person (or the configuration) said stop everything.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from perpsbot.actors.risk._check import num, usd
from perpsbot.actors.risk._rules import DailyLoss, MarkFreshness
from perpsbot.actors.risk._volatility import VolatilityBreaker, VolatilityLevel
from perpsbot.config import BotConfig
from perpsbot.messages import Halt, ReduceOnly, TradingState

OPERATOR = "operator"
JOURNAL = "journal"
KILL_SWITCH = "kill_switch"
REDUCE_ONLY = "reduce_only"
RECONCILIATION = "reconciliation"
DAILY_LOSS = "daily_loss"
BOOK = "book"
_REDUCING, _HALTED = TradingState.REDUCING, TradingState.HALTED


#: How a start's trading state reads before its first reconciliation succeeded.
STARTING = "holding until reconciliation"
#: The kinds of hold every start waits out (see :attr:`TradingConditions.starting`).
_STARTING = frozenset({JOURNAL, BOOK, RECONCILIATION, "down", "stale"})


def _down(path: str) -> str:
    return f"down:{path}"


def _stale(symbol: str) -> str:
    return f"stale:{symbol}"


def _volatile(symbol: str) -> str:
    return f"volatility:{symbol}"


def _breaker(symbol: str) -> str:
    return f"breaker:{symbol}"


class Holds:
    """The conditions holding trading back, by key."""

    def __init__(self) -> None:
        self._holds: dict[str, tuple[TradingState, str]] = {}

    def hold(self, key: str, state: TradingState, reason: str) -> None:
        self._holds[key] = (state, reason)

    def release(self, *keys: str) -> None:
        for key in keys:
            self._holds.pop(key, None)

    def set(self, key: str, state: TradingState, reason: str, *, holding: bool) -> None:
        """Hold ``key`` if ``holding``, else release it."""
        if holding:
            self.hold(key, state, reason)
        else:
            self.release(key)

    def holds(self, key: str) -> bool:
        return key in self._holds

    def state_of(self, key: str) -> TradingState:
        """The state ``key`` demands (ACTIVE when it does not hold)."""
        held = self._holds.get(key)
        return TradingState.ACTIVE if held is None else held[0]

    @property
    def state(self) -> TradingState:
        return max(
            (state for state, _ in self._holds.values()),
            key=lambda s: s.severity,
            default=TradingState.ACTIVE,
        )

    @property
    def reasons(self) -> tuple[str, ...]:
        """Every hold's reason, the most severe first."""
        ordered = sorted(self._holds.items(), key=lambda kv: (-kv[1][0].severity, kv[0]))
        return tuple(reason for _, (_, reason) in ordered)

    def active(self) -> frozenset[str]:
        """The keys holding now."""
        return frozenset(self._holds)

    def snapshot(self) -> dict[str, tuple[TradingState, str]]:
        return dict(self._holds)

    def restore(self, snapshot: Mapping[str, tuple[TradingState, str]]) -> None:
        self._holds = dict(snapshot)


class TradingConditions:
    """Risk's trading state: every condition, how it holds and how it clears.

    Starts failing closed: not reconciled, every watched actor not started yet, no marks,
    (with ``book_pending``) no positions from the portfolio yet, and (with
    ``journal_pending``) HALTED until the operator's last command was read back.
    """

    def __init__(
        self,
        config: BotConfig,
        *,
        watched: Iterable[str] = (),
        journal_pending: bool = False,
        book_pending: bool = False,
    ) -> None:
        self.holds = Holds()
        self._reconciled_once = False
        self._journal_failed = False
        self._history: dict[str, deque[Decimal]] = {}
        self._levels: dict[str, VolatilityLevel] = {}
        self.configure(config)
        self.holds.hold(RECONCILIATION, _REDUCING, "not reconciled with the venue yet")
        if book_pending:
            self.holds.hold(BOOK, _REDUCING, "no positions from the portfolio yet")
        for path in watched:
            self.holds.hold(_down(path), _REDUCING, f"{path} not started yet")
        if journal_pending:
            self.holds.hold(
                JOURNAL, _HALTED, "reading the operator's last command from the journal"
            )

    def configure(self, config: BotConfig) -> None:
        risk = config.risk
        self.symbols = config.market_data.symbols
        self.freshness = MarkFreshness(risk.max_mark_age_s)
        self.daily_loss = DailyLoss(risk.daily_loss_limit_usd)
        self.breaker = VolatilityBreaker.from_config(risk)
        self._history = {
            s: deque(self._history.get(s, ()), maxlen=risk.volatility_window) for s in self.symbols
        }
        holds = self.holds
        holds.set(KILL_SWITCH, _HALTED, "risk.kill_switch is on", holding=risk.kill_switch)
        holds.set(REDUCE_ONLY, _REDUCING, "risk.reduce_only is on", holding=risk.reduce_only)
        for key in holds.active():
            kind, _, symbol = key.partition(":")
            if kind in ("stale", "volatility", "breaker") and symbol not in self.symbols:
                holds.release(key)

    @property
    def state(self) -> TradingState:
        return self.holds.state

    @property
    def stops_everything(self) -> bool:
        """HALTED by an operator's halt or the kill switch (a person's decision)."""
        holds = self.holds
        return holds.state_of(OPERATOR) is _HALTED or holds.state_of(KILL_SWITCH) is _HALTED

    @property
    def reasons(self) -> tuple[str, ...]:
        return self.holds.reasons

    @property
    def starting(self) -> bool:
        """True while trading holds only for what every start waits for (the operator's last
        command from the journal, the portfolio's book, actors starting, first marks), until
        the first reconciliation with the venue succeeds: a start, not a halt."""
        if self._reconciled_once or self._journal_failed:
            return False
        return all(key.partition(":")[0] in _STARTING for key in self.holds.active())

    # -- automatic conditions --------------------------------------------------------------

    def marks(self, ages: Mapping[str, float | None]) -> None:
        """REDUCING while any configured symbol's mark is missing or too old."""
        limit = f"{self.freshness.max_age_s:g}"
        for symbol in self.symbols:
            age = ages.get(symbol)
            why = "no mark yet" if age is None else f"mark older than max_mark_age_s {limit}"
            self.holds.set(
                _stale(symbol),
                _REDUCING,
                f"stale marks for {symbol} ({why})",
                holding=self.freshness.stale(age),
            )

    def new_day(self) -> None:
        self.holds.release(DAILY_LOSS)

    def day_pnl(self, daily_pnl: Decimal) -> str | None:
        """REDUCING for the rest of the UTC day once the loss passes the limit; returns the
        reason when this call tripped it (the caller cancels open entries)."""
        if self.holds.holds(DAILY_LOSS) or not self.daily_loss.breached(daily_pnl):
            return None
        reason = (
            f"daily loss {usd(-daily_pnl)} USD exceeds daily_loss_limit_usd"
            f" {num(self.daily_loss.limit)} (until the UTC day ends)"
        )
        self.holds.hold(DAILY_LOSS, _REDUCING, reason)
        return reason

    def sample(self, symbol: str, mark: Decimal) -> str | None:
        """Add a fresh sample to ``symbol``'s volatility window; returns what to tell people
        when the breaker's level rose.

        Past ``volatility_reduce`` trading holds at REDUCING while the window stays that
        volatile. Rising past ``volatility_halt`` trips the breaker: a latched REDUCING hold of
        its own (not the operator's) until an operator resumes. It stops entries, never exits,
        and never changes an operator's Halt or ReduceOnly. It trips on a new breach only:
        when the volatility rises past ``volatility_halt`` from at or below it, so after a
        Resume the spike still in the window does not trip it again (the REDUCING hold past
        ``volatility_reduce`` still holds until that spike has left the window).
        """
        history = self._history.get(symbol)
        if history is None:
            return None
        history.append(mark)
        volatility = self.breaker.statistic(history)
        level = self.breaker.level(volatility)
        previous = self._levels.get(symbol, VolatilityLevel.CALM)
        self._levels[symbol] = level
        if volatility is None:
            return None
        description = self.breaker.describe(symbol, volatility, level)
        self.holds.set(
            _volatile(symbol), _REDUCING, description, holding=level >= VolatilityLevel.REDUCE
        )
        if level is VolatilityLevel.HALT and previous is not VolatilityLevel.HALT:
            self.holds.hold(
                _breaker(symbol),
                _REDUCING,
                f"volatility breaker tripped: {description}; no entries until an operator resumes",
            )
        return description if level > previous else None

    def reconciling(self, why: str) -> None:
        self.holds.hold(RECONCILIATION, _REDUCING, f"reconciling with the venue ({why})")

    def reconciled(self, *, success: bool, error: str = "") -> None:
        if success:
            self._reconciled_once = True
            self.holds.release(RECONCILIATION)
        else:
            self.holds.hold(RECONCILIATION, _REDUCING, f"reconciliation failed: {error}")

    def book_read(self) -> None:
        """The portfolio told its book (it holds every position)."""
        self.holds.release(BOOK)

    def watched(self, path: str, *, up: bool, final: bool = False) -> None:
        reason = f"{path} is down" + (" for good" if final else " (restarting)")
        self.holds.set(_down(path), _REDUCING, reason, holding=not up)

    # -- latched: operator commands and the journal ----------------------------------------

    def command(self, kind: type, reason: str, operator: str) -> None:
        """Apply an operator's Halt, ReduceOnly or Resume; Resume lifts every latched hold
        (the operator's, the journal's and every tripped volatility breaker)."""
        if kind is Halt:
            self.holds.hold(OPERATOR, _HALTED, f"halted by {operator}: {reason}")
        elif kind is ReduceOnly:
            self.holds.hold(OPERATOR, _REDUCING, f"reduce-only by {operator}: {reason}")
        else:
            tripped = [key for key in self.holds.active() if key.startswith(_breaker(""))]
            self.holds.release(OPERATOR, JOURNAL, *tripped)

    def journal_read(self) -> None:
        self.holds.release(JOURNAL)

    def journal_unreadable(self, error: str) -> None:
        self._journal_failed = True
        self.holds.hold(JOURNAL, _HALTED, f"operator state unreadable ({error}); resume to trade")

    # -- restarts --------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        return {
            "holds": self.holds.snapshot(),
            "started": (self._reconciled_once, self._journal_failed),
            "history": {s: tuple(h) for s, h in self._history.items()},
            "levels": dict(self._levels),
        }

    def restore(self, snapshot: dict[str, Any], config: BotConfig) -> None:
        self.holds.restore(snapshot["holds"])
        self._reconciled_once, self._journal_failed = snapshot["started"]
        for symbol, history in snapshot["history"].items():
            if symbol in self._history:
                self._history[symbol].extend(history)
        self._levels = dict(snapshot["levels"])
        self.configure(config)  # config-driven holds follow the current config
