"""What the strategy does with one symbol's sample: hold, enter, or close, and how much.

Pure functions of what the strategy actor knows (the sample, the position risk reported, the
trading state, the trailing stop), so every rule is tested without threads.

- A stale sample decides nothing (no entry, no exit) and does not move the stop.
- HALTED decides nothing; while an intent for the symbol is pending nothing new is sent.
- With a position: close on the opposite cross, else on the trailing stop; never add. A
  close on the opposite cross is a reversal when that side may be entered (a short needs
  ``enable_shorts`` and a future): once flat, the opposite side is entered on the first
  sample whose averages still stand past the band on that side.
- Flat: enter on a cross only when ACTIVE, inside the trading window, with shorts only if
  enabled and only on futures, sized from equity and the product's contract size within
  every cap risk checks an entry against (:func:`entry_notional`).
"""

from __future__ import annotations

import enum
from decimal import ROUND_DOWN, Decimal

import attrs

from perpsbot.actors.risk import _margin as margin
from perpsbot.actors.strategy._crossover import Crossover, crossover
from perpsbot.actors.strategy._trailing_stop import TrailingStop
from perpsbot.config import BotConfig, RiskConfig
from perpsbot.messages import IntentPurpose, MarkSample, ProductSpec, Side, Signal, TradingState

#: Entries use at most this share of each risk cap, so a mark that moved by up to 1% between
#: the strategy's sample and risk's check (risk prices an order at its latest mark) still
#: passes.
CAP_HEADROOM = Decimal("0.99")
_ZERO = Decimal(0)
_BPS = Decimal(10_000)


class Action(enum.StrEnum):
    HOLD = "hold"
    BUY = "buy"
    SELL = "sell"
    CLOSE = "close"


@attrs.frozen(kw_only=True)
class Params:
    """The strategy's settings, taken from the ``strategy`` and ``market_data`` sections, and
    the ``risk`` limits its entries are sized within."""

    short: int
    long: int
    epsilon_bps: Decimal
    confirm_bars: int
    trailing_stop_pct: Decimal
    position_fraction: Decimal
    leverage: Decimal
    max_trade_usd: Decimal | None
    enable_shorts: bool
    risk: RiskConfig

    @classmethod
    def from_config(cls, config: BotConfig) -> Params:
        strategy = config.strategy
        return cls(
            short=config.market_data.short_ma,
            long=config.market_data.long_ma,
            epsilon_bps=strategy.ma_cross_epsilon_bps,
            confirm_bars=strategy.confirm_bars,
            trailing_stop_pct=strategy.trailing_stop_pct,
            position_fraction=strategy.position_fraction,
            leverage=strategy.leverage,
            max_trade_usd=strategy.max_trade_usd,
            enable_shorts=strategy.enable_shorts,
            risk=config.risk,
        )


@attrs.frozen(kw_only=True)
class Situation:
    """Everything one decision depends on."""

    sample: MarkSample
    position: Decimal = Decimal(0)
    """Signed: contracts for futures, base units for spot."""
    stop: TrailingStop | None = None
    state: TradingState = TradingState.ACTIVE
    in_window: bool = True
    pending: str | None = None
    """The intent id still pending for this symbol, if any."""
    reversal: Signal | None = None
    """The cross that closed the last position, to be entered once flat (while it holds)."""
    equity: Decimal | None = None
    product: ProductSpec | None = None
    exposure: Decimal = _ZERO
    """USD notional of every position held, at the latest marks (risk's snapshot)."""
    now_ns: int = 0
    """Wall-clock time: which of the venue's margin windows applies."""


@attrs.frozen(kw_only=True)
class WantedOrder:
    """The order a decision wants: its side, size (contracts for futures) and purpose."""

    side: Side
    size: Decimal
    purpose: IntentPurpose


@attrs.frozen(kw_only=True)
class Decision:
    signal: Signal
    action: Action
    reason: str
    order: WantedOrder | None = None
    stop: TrailingStop | None = None
    """The trailing stop after this sample (None when flat)."""
    reversal: Signal | None = None
    """The reversal still to enter after this sample (:attr:`Situation.reversal`)."""


def decide(situation: Situation, params: Params) -> Decision:
    """The decision for one symbol on one sample."""
    sample = situation.sample
    if sample.stale or sample.mark is None:
        age = "no mark yet" if sample.age_s is None else f"mark {sample.age_s:.1f}s old"
        return Decision(
            signal=Signal.STALE,
            action=Action.HOLD,
            reason=f"stale: {age}",
            stop=situation.stop,
            reversal=situation.reversal,
        )
    mark = sample.mark
    reading = crossover(
        sample.window,
        short=params.short,
        long=params.long,
        epsilon_bps=params.epsilon_bps,
        confirm_bars=params.confirm_bars,
    )
    position = situation.position
    stop = None
    if position:
        seeded = situation.stop or TrailingStop(
            long=position > 0, pct=params.trailing_stop_pct, peak=mark
        )
        stop = seeded.follow(mark)

    def hold(reason: str, reversal: Signal | None = situation.reversal) -> Decision:
        return Decision(
            signal=reading.signal, action=Action.HOLD, reason=reason, stop=stop, reversal=reversal
        )

    if situation.state is TradingState.HALTED:
        return hold("HALTED: no orders")
    if situation.pending is not None:
        return hold(f"waiting for intent {situation.pending}")
    if position:
        managed = _manage(situation, reading, stop, mark, params)
        return managed or hold(_holding(position, stop, mark), reversal=None)
    signal, cross = reading.signal, "cross"
    if signal not in (Signal.BULLISH, Signal.BEARISH):
        if situation.reversal is None or not _stands(reading, situation.reversal, mark, params):
            return hold(reading.describe(), reversal=None)
        signal, cross = situation.reversal, "cross, reversing after the exit"
    if situation.state is TradingState.REDUCING:
        return hold("REDUCING: no entries")
    if not situation.in_window:
        return hold(f"{signal} cross outside the trading window")
    if signal is Signal.BEARISH and not params.enable_shorts:
        return hold("bearish cross; shorts disabled", reversal=None)
    if signal is Signal.BEARISH and situation.product and not situation.product.is_future:
        return hold("bearish cross; spot cannot be sold short", reversal=None)
    return _enter(situation, reading, signal=signal, cross=cross, params=params, mark=mark)


def _stands(reading: Crossover, side: Signal, mark: Decimal, params: Params) -> bool:
    """Whether the averages stand past the epsilon band on ``side`` now."""
    if reading.short_ma is None or reading.long_ma is None:
        return False
    diff, epsilon = reading.short_ma - reading.long_ma, mark * params.epsilon_bps / _BPS
    return diff > epsilon if side is Signal.BULLISH else diff < -epsilon


def _holding(position: Decimal, stop: TrailingStop | None, mark: Decimal) -> str:
    side = "long" if position > 0 else "short"
    assert stop is not None
    return f"holding {side} {abs(position)}; {stop.describe(mark)}"


def _manage(
    situation: Situation,
    reading: Crossover,
    stop: TrailingStop | None,
    mark: Decimal,
    params: Params,
) -> Decision | None:
    """Close a position on the opposite cross (a reversal, when that side may be entered) or
    its trailing stop; None to keep it."""
    position = situation.position
    long = position > 0
    opposite = Signal.BEARISH if long else Signal.BULLISH
    side_name = "long" if long else "short"
    reversal = None
    if reading.signal is opposite:
        reason = f"exit {side_name} on {opposite} cross ({reading.describe()})"
        product = situation.product
        if opposite is Signal.BULLISH or (
            params.enable_shorts and product is not None and product.is_future
        ):
            reversal = opposite
            reason += f"; then {'short' if long else 'long'} once flat"
    elif stop is not None and stop.triggered(mark):
        reason = f"trailing stop: exit {side_name}, {stop.describe(mark)}"
    else:
        return None
    return Decision(
        signal=reading.signal,
        action=Action.CLOSE,
        reason=reason,
        order=WantedOrder(
            side=Side.SELL if long else Side.BUY, size=abs(position), purpose=IntentPurpose.EXIT
        ),
        stop=stop,
        reversal=reversal,
    )


def _enter(
    situation: Situation,
    reading: Crossover,
    *,
    signal: Signal,
    cross: str,
    params: Params,
    mark: Decimal,
) -> Decision:
    side = Side.BUY if signal is Signal.BULLISH else Side.SELL

    def hold(reason: str) -> Decision:
        return Decision(
            signal=reading.signal, action=Action.HOLD, reason=reason, reversal=situation.reversal
        )

    product, equity = situation.product, situation.equity
    if product is None:
        return hold(f"{signal} {cross}; no product data yet")
    if not product.tradable:
        return hold(f"{signal} {cross}; product not tradable")
    if equity is None or equity <= 0:
        return hold(f"{signal} {cross}; equity unknown ({equity})")
    long = side is Side.BUY
    notional, limit = entry_notional(
        equity=equity, product=product, params=params, exposure=situation.exposure,
        long=long, now_ns=situation.now_ns,
    )  # fmt: skip
    size = entry_size(notional=notional, mark=mark, product=product)
    capped = "" if limit == _FRACTION else f" (capped by {limit})"
    if size <= 0 or size < product.base_min_size:
        return hold(
            f"{signal} {cross}; {notional:.2f} USD{capped} buys {size}, less than the"
            f" minimum {max(product.base_min_size, product.base_increment)} at {mark}"
        )
    return Decision(
        signal=signal,  # a reversal enters on the cross that closed the last position
        action=Action.BUY if long else Action.SELL,
        reason=f"{signal} {cross} ({reading.describe()}); {notional:.2f} USD{capped}",
        order=WantedOrder(side=side, size=size, purpose=IntentPurpose.ENTRY),
    )


_FRACTION = "strategy.position_fraction"


def entry_notional(
    *,
    equity: Decimal,
    product: ProductSpec,
    params: Params,
    exposure: Decimal = _ZERO,
    long: bool = True,
    now_ns: int = 0,
) -> tuple[Decimal, str]:
    """The USD an entry commits, and the key that set it.

    ``position_fraction`` of equity (times ``leverage`` for futures), within ``max_trade_usd``
    and, at :data:`CAP_HEADROOM` of each, every cap risk checks an entry against:
    ``max_order_usd``, ``max_position_usd`` (the entry is the position: the strategy enters
    only when flat), what ``max_exposure_usd`` leaves over the positions held, the symbol's
    leverage cap times equity (the configured cap, the venue's product limit and 1 / the
    margin rate that applies now, as risk takes them), and what ``max_leverage`` times equity
    leaves over the positions held. Never below 0.
    """
    risk = params.risk
    wanted = equity * params.position_fraction
    if product.is_future:
        wanted *= params.leverage
    symbol_cap, _ = margin.leverage_cap(
        risk.leverage_cap(product.symbol), product, long=long, now_ns=now_ns
    )
    limits = [(wanted, _FRACTION)]
    if params.max_trade_usd is not None:
        limits.append((params.max_trade_usd, "strategy.max_trade_usd"))
    limits += [
        (risk.max_order_usd * CAP_HEADROOM, "risk.max_order_usd"),
        (risk.max_position_usd * CAP_HEADROOM, "risk.max_position_usd"),
        (risk.max_exposure_usd * CAP_HEADROOM - exposure, "risk.max_exposure_usd"),
        (symbol_cap * equity * CAP_HEADROOM, f"the leverage cap {symbol_cap.normalize():f}x"),
        (risk.max_leverage * equity * CAP_HEADROOM - exposure, "risk.max_leverage"),
    ]
    notional, limit = min(limits, key=lambda item: item[0])
    return max(notional, _ZERO), limit


def entry_size(*, notional: Decimal, mark: Decimal, product: ProductSpec) -> Decimal:
    """The size ``notional`` USD buys at ``mark``: contracts for futures, base units for spot,
    rounded down to the product's increment."""
    raw = notional / (mark * product.contract_size)
    increments = (raw / product.base_increment).to_integral_value(rounding=ROUND_DOWN)
    return increments * product.base_increment
