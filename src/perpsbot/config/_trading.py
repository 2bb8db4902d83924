"""The sections of the trading actors: risk limits, the strategy, execution and the journal.

Each key is its own reload unit (``section.key``): a change restarts, or tells
``ConfigChanged`` to, only the actors built from it.
"""

from __future__ import annotations

import enum
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import ClassVar

import attrs

from perpsbot.config._rules import (
    BOOLEAN,
    FRACTION,
    INTERVAL,
    MIN_INTERVAL_S,
    PATH,
    PERCENT_FRACTION,
    Rule,
    amount,
    integer,
    one_of,
    raise_if_any,
    require,
    seconds,
)

__all__ = [
    "WEEKDAYS",
    "ExecutionConfig",
    "JournalConfig",
    "RiskConfig",
    "StrategyConfig",
    "Synchronous",
]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_PRODUCT_ID = re.compile(r"[A-Z0-9]{1,16}(-[A-Z0-9]{1,16}){1,2}")
_HHMM = re.compile(r"([01]\d|2[0-3]):[0-5]\d")


def _symbol_amounts(value: object) -> object:
    """``{"BTC-USD" = 2}`` from TOML or ``BTC-USD:2,ETH-USD:1.5`` from the environment to a
    sorted tuple of ``(symbol, Decimal)`` pairs; anything else is returned for the rule to
    report."""
    if isinstance(value, str):
        pairs: list[tuple[str, str]] = []
        for part in (p.strip() for p in value.split(",") if p.strip()):
            symbol, sep, amount = part.partition(":")
            if not sep:
                return value
            pairs.append((symbol.strip(), amount.strip()))
        items: object = pairs
    elif isinstance(value, dict):
        items = list(value.items())
    elif value in ([], ()):
        return ()
    else:
        return value
    try:
        converted = [
            (symbol, Decimal(str(amount)))
            for symbol, amount in items  # type: ignore[attr-defined]
            if not isinstance(amount, bool)
        ]
    except (InvalidOperation, ValueError):
        return value
    if len(converted) != len(items):  # type: ignore[arg-type]
        return value
    return tuple(sorted(converted))


def _valid_symbol_amounts(pairs: tuple[object, ...]) -> bool:
    for pair in pairs:
        if not (isinstance(pair, tuple) and len(pair) == 2):
            return False
        symbol, amount = pair
        if not (isinstance(symbol, str) and _PRODUCT_ID.fullmatch(symbol)):
            return False
        if not (isinstance(amount, Decimal) and amount.is_finite() and 0 < amount <= 100):
            return False
    return True


_LEVERAGE = amount(Decimal(100))
_USD = amount(Decimal(10**9))
_SYMBOL_LEVERAGE = Rule(
    'a table of product id = leverage above 0 and at most 100, like {"BIP-20DEC30-CDE" = 2}'
    " (PERPSBOT_RISK_MAX_LEVERAGE_PER_SYMBOL=BIP-20DEC30-CDE:2)",
    tuple,
    _valid_symbol_amounts,
    converter=_symbol_amounts,
)
_VOLATILITY = amount(Decimal(1))


@attrs.frozen(kw_only=True)
class RiskConfig:
    """Limits the risk actor enforces before any order reaches the venue.

    Notional limits are in USD at the latest mark (or the limit price): ``max_order_usd`` per
    order, ``max_position_usd`` per symbol's resulting position, ``max_exposure_usd`` over all
    positions. Leverage is position notional over equity, capped by ``max_leverage``, by
    ``max_leverage_per_symbol``, by the venue's product limit and by 1 / a future's margin
    rate that applies now. ``min_liquidation_buffer_pct`` is the share of the futures
    account's equity an order must leave above its liquidation threshold; on a cross-margined
    venue (``venue.kind = "global"``), how far every price may move against its position at
    once, as a share of it, before the account reaches maintenance after an entry (the whole
    book's notional, orders in flight included, against the one buffer): how far from the
    price the entry leaves its liquidation price. ``daily_loss_limit_usd``
    switches to REDUCING for the rest of the UTC day once realized plus unrealized losses pass
    it. The volatility breaker looks at the standard deviation of sample-to-sample returns
    over the last ``volatility_window`` samples: past ``volatility_warn`` it warns, past
    ``volatility_reduce`` it holds trading at REDUCING while that lasts, and rising past
    ``volatility_halt`` trips it: REDUCING (no entries; exits still go out) until an operator
    resumes. ``kill_switch`` halts (and, turned on by a reload, cancels every open order) and
    ``reduce_only`` reduces from start.
    """

    SECTION: ClassVar[str] = "risk"

    max_leverage: Decimal = attrs.field(default=Decimal(3), validator=_LEVERAGE)
    max_leverage_per_symbol: tuple[tuple[str, Decimal], ...] = attrs.field(
        default=(), validator=_SYMBOL_LEVERAGE
    )
    max_order_usd: Decimal = attrs.field(default=Decimal(5_000), validator=_USD)
    max_position_usd: Decimal = attrs.field(default=Decimal(1000), validator=_USD)
    max_exposure_usd: Decimal = attrs.field(default=Decimal(5_000), validator=_USD)
    min_liquidation_buffer_pct: Decimal = attrs.field(
        default=Decimal("0.15"), validator=PERCENT_FRACTION
    )
    max_mark_age_s: float = attrs.field(default=30.0, validator=seconds())
    daily_loss_limit_usd: Decimal = attrs.field(default=Decimal(100), validator=_USD)
    volatility_window: int = attrs.field(default=20, validator=integer(3, 10_000))
    volatility_warn: Decimal = attrs.field(default=Decimal("0.005"), validator=_VOLATILITY)
    volatility_reduce: Decimal = attrs.field(default=Decimal("0.01"), validator=_VOLATILITY)
    volatility_halt: Decimal = attrs.field(default=Decimal("0.02"), validator=_VOLATILITY)
    max_orders_per_minute: int = attrs.field(default=10, validator=integer(1, 10_000))
    kill_switch: bool = attrs.field(default=False, validator=BOOLEAN)
    reduce_only: bool = attrs.field(default=False, validator=BOOLEAN)

    def __attrs_post_init__(self) -> None:
        errors: list[str] = []
        require(
            self.volatility_warn <= self.volatility_reduce <= self.volatility_halt,
            "risk.volatility_warn <= risk.volatility_reduce <= risk.volatility_halt must hold,"
            f" was {self.volatility_warn} / {self.volatility_reduce} / {self.volatility_halt}",
            errors,
        )
        raise_if_any(errors)

    def leverage_cap(self, symbol: str) -> Decimal:
        """The configured leverage cap for ``symbol``: its own entry, else ``max_leverage``
        (the venue's product limit applies on top)."""
        for configured, cap in self.max_leverage_per_symbol:
            if configured == symbol:
                return min(cap, self.max_leverage)
        return self.max_leverage


def _days(value: object) -> object:
    if isinstance(value, str):
        value = [part for part in value.split(",") if part.strip()]
    if isinstance(value, list | tuple):
        return tuple(str(day).strip().lower()[:3] if isinstance(day, str) else day for day in value)
    return value


_TRADING_DAYS = Rule(
    "a non-empty list of distinct weekdays among " + ", ".join(f"'{d}'" for d in WEEKDAYS),
    tuple,
    lambda v: all(isinstance(d, str) and d in WEEKDAYS for d in v) and 0 < len(v) == len(set(v)),
    converter=_days,
)
_TIME_OF_DAY = Rule(
    "a UTC time of day 'HH:MM' or unset", str, lambda v: bool(_HHMM.fullmatch(v)), optional=True
)


@attrs.frozen(kw_only=True)
class StrategyConfig:
    """The MA-crossover strategy; its MA lengths live in ``market_data``.

    An entry commits ``position_fraction`` of equity, times ``leverage`` for futures, capped at
    ``max_trade_usd`` if set. A cross counts only when the short MA moves past the long one by
    more than ``ma_cross_epsilon_bps`` of the mark and stays there for ``confirm_bars`` more
    samples. ``trailing_stop_pct`` is a fraction (0.01 is a 1% stop) seeded at the fill
    price. New entries happen only on ``trading_days`` between ``trading_start_utc`` and
    ``trading_end_utc`` (a window may span midnight); exits happen at any time.
    """

    SECTION: ClassVar[str] = "strategy"

    trailing_stop_pct: Decimal = attrs.field(default=Decimal("0.01"), validator=PERCENT_FRACTION)
    position_fraction: Decimal = attrs.field(default=Decimal("0.05"), validator=FRACTION)
    leverage: Decimal = attrs.field(default=Decimal(1), validator=_LEVERAGE)
    max_trade_usd: Decimal | None = attrs.field(
        default=None,
        validator=attrs.evolve(_USD, expected=_USD.expected + " or unset", optional=True),
    )
    enable_shorts: bool = attrs.field(default=False, validator=BOOLEAN)
    ma_cross_epsilon_bps: Decimal = attrs.field(
        default=Decimal(0),
        validator=amount(Decimal(10_000), zero=True),
    )
    confirm_bars: int = attrs.field(default=0, validator=integer(0, 1_000))
    trading_days: tuple[str, ...] = attrs.field(default=WEEKDAYS, validator=_TRADING_DAYS)
    trading_start_utc: str | None = attrs.field(default=None, validator=_TIME_OF_DAY)
    trading_end_utc: str | None = attrs.field(default=None, validator=_TIME_OF_DAY)

    def __attrs_post_init__(self) -> None:
        errors: list[str] = []
        require(
            (self.trading_start_utc is None) == (self.trading_end_utc is None),
            "strategy.trading_start_utc and strategy.trading_end_utc must be set together, was"
            f" '{self.trading_start_utc}' and '{self.trading_end_utc}'",
            errors,
        )
        raise_if_any(errors)


@attrs.frozen(kw_only=True)
class ExecutionConfig:
    """How the executor places and follows orders.

    With ``dry_run`` every allowed order is journaled as "would place" and nothing reaches the
    venue. An intent not submitted within ``intent_ttl_s`` of its creation is never submitted
    (after a crash, a stale entry must not reach the market late). Open orders and positions
    are reconciled with the venue every ``reconcile_interval_s``; while the user channel is
    unhealthy, in-flight orders are polled every ``order_poll_interval_s``. At most
    ``max_pending_orders`` orders wait in the executor's mailbox; more are denied, never
    queued. The product catalogue is reloaded every ``product_refresh_s``.
    """

    SECTION: ClassVar[str] = "execution"

    dry_run: bool = attrs.field(default=False, validator=BOOLEAN)
    intent_ttl_s: float = attrs.field(default=30.0, validator=seconds(at_most=3_600.0))
    reconcile_interval_s: float = attrs.field(default=30.0, validator=INTERVAL)
    order_poll_interval_s: float = attrs.field(
        default=2.0, validator=seconds(at_least=MIN_INTERVAL_S, at_most=3_600.0)
    )
    max_pending_orders: int = attrs.field(default=50, validator=integer(1, 10_000))
    product_refresh_s: float = attrs.field(default=300.0, validator=INTERVAL)


class Synchronous(enum.StrEnum):
    """SQLite's ``synchronous`` setting for the journal (WAL mode).

    ``normal`` survives a crash of the process (our crash model: kill -9, OOM); ``full`` also
    survives a crash of the machine or a power loss, at a higher commit latency.
    """

    NORMAL = "normal"
    FULL = "full"


@attrs.frozen(kw_only=True)
class JournalConfig:
    """Where the journal actor keeps its SQLite database, and how durably it commits.

    Risk publishes a snapshot every sampling cycle; the journal keeps at most one per
    ``risk_snapshot_interval_s`` (plus every one whose trading state or reasons changed), so
    the file does not grow by a row per cycle forever.
    """

    SECTION: ClassVar[str] = "journal"

    path: Path = attrs.field(default=Path("var/dev/journal.sqlite3"), validator=PATH)
    synchronous: Synchronous = attrs.field(
        default=Synchronous.NORMAL, validator=one_of(Synchronous)
    )
    risk_snapshot_interval_s: float = attrs.field(default=60.0, validator=seconds())
