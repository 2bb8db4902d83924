"""What the strategy does with one symbol's sample: hold, enter, or close, and how much.

Pure functions of what the strategy actor knows (the sample, the position risk reported, the
trading state, the trailing stop), so every rule is tested without threads.

- A stale sample decides nothing (no entry, no exit) and does not move the stop.
- HALTED decides nothing; while an intent for the symbol is pending nothing new is sent.
- With a position: close on the opposite cross, else on the trailing stop; never add.
- Flat: enter on a cross only when ACTIVE, inside the trading window, with shorts only if
  enabled and only on futures, sized from equity and the product's contract size.
"""

from __future__ import annotations

import enum
from decimal import ROUND_DOWN, Decimal

import attrs

from perpsbot.actors._crossover import Crossover, crossover
from perpsbot.actors._trailing_stop import TrailingStop
from perpsbot.config import BotConfig
from perpsbot.messages import IntentPurpose, MarkSample, ProductSpec, Side, Signal, TradingState


class Action(enum.StrEnum):
    HOLD = "hold"
    BUY = "buy"
    SELL = "sell"
    CLOSE = "close"


@attrs.frozen(kw_only=True)
class Params:
    """The strategy's settings, taken from the ``strategy`` and ``market_data`` sections."""

    short: int
    long: int
    epsilon_bps: Decimal
    confirm_bars: int
    trailing_stop_pct: Decimal
    position_fraction: Decimal
    leverage: Decimal
    max_trade_usd: Decimal | None
    enable_shorts: bool

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
    equity: Decimal | None = None
    product: ProductSpec | None = None


@attrs.frozen(kw_only=True)
class Order:
    """The order a decision wants: its side, size (contracts for futures) and purpose."""

    side: Side
    size: Decimal
    purpose: IntentPurpose


@attrs.frozen(kw_only=True)
class Decision:
    signal: Signal
    action: Action
    reason: str
    order: Order | None = None
    stop: TrailingStop | None = None
    """The trailing stop after this sample (None when flat)."""


def decide(situation: Situation, params: Params) -> Decision:
    """The decision for one symbol on one sample."""
    sample = situation.sample
    if sample.stale or sample.mark is None:
        age = "no mark yet" if sample.age_s is None else f"mark {sample.age_s:.1f}s old"
        return Decision(
            signal=Signal.STALE, action=Action.HOLD, reason=f"stale: {age}", stop=situation.stop
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

    def hold(reason: str) -> Decision:
        return Decision(signal=reading.signal, action=Action.HOLD, reason=reason, stop=stop)

    if situation.state is TradingState.HALTED:
        return hold("HALTED: no orders")
    if situation.pending is not None:
        return hold(f"waiting for intent {situation.pending}")
    if position:
        return _manage(situation, reading, stop, mark) or hold(_holding(position, stop, mark))
    if situation.state is TradingState.REDUCING:
        return hold("REDUCING: no entries")
    if reading.signal not in (Signal.BULLISH, Signal.BEARISH):
        return hold(reading.describe())
    if not situation.in_window:
        return hold(f"{reading.signal} cross outside the trading window")
    if reading.signal is Signal.BEARISH and not params.enable_shorts:
        return hold("bearish cross; shorts disabled")
    if reading.signal is Signal.BEARISH and situation.product and not situation.product.is_future:
        return hold("bearish cross; spot cannot be sold short")
    return _enter(situation, reading, params, mark)


def _holding(position: Decimal, stop: TrailingStop | None, mark: Decimal) -> str:
    side = "long" if position > 0 else "short"
    assert stop is not None
    return f"holding {side} {abs(position)}; {stop.describe(mark)}"


def _manage(
    situation: Situation, reading: Crossover, stop: TrailingStop | None, mark: Decimal
) -> Decision | None:
    """Close a position on the opposite cross or its trailing stop; None to keep it."""
    position = situation.position
    long = position > 0
    opposite = Signal.BEARISH if long else Signal.BULLISH
    side_name = "long" if long else "short"
    if reading.signal is opposite:
        reason = f"exit {side_name} on {opposite} cross ({reading.describe()})"
    elif stop is not None and stop.triggered(mark):
        reason = f"trailing stop: exit {side_name}, {stop.describe(mark)}"
    else:
        return None
    return Decision(
        signal=reading.signal,
        action=Action.CLOSE,
        reason=reason,
        order=Order(
            side=Side.SELL if long else Side.BUY, size=abs(position), purpose=IntentPurpose.EXIT
        ),
        stop=stop,
    )


def _enter(situation: Situation, reading: Crossover, params: Params, mark: Decimal) -> Decision:
    side = Side.BUY if reading.signal is Signal.BULLISH else Side.SELL

    def hold(reason: str) -> Decision:
        return Decision(signal=reading.signal, action=Action.HOLD, reason=reason)

    product, equity = situation.product, situation.equity
    if product is None:
        return hold(f"{reading.signal} cross; no product data yet")
    if not product.tradable:
        return hold(f"{reading.signal} cross; product not tradable")
    if equity is None or equity <= 0:
        return hold(f"{reading.signal} cross; equity unknown ({equity})")
    size, notional = entry_size(equity=equity, mark=mark, product=product, params=params)
    if size <= 0 or size < product.base_min_size:
        return hold(
            f"{reading.signal} cross; {notional:.2f} USD buys {size}, less than the minimum"
            f" {max(product.base_min_size, product.base_increment)} at {mark}"
        )
    return Decision(
        signal=reading.signal,
        action=Action.BUY if side is Side.BUY else Action.SELL,
        reason=f"{reading.signal} cross ({reading.describe()}); {notional:.2f} USD",
        order=Order(side=side, size=size, purpose=IntentPurpose.ENTRY),
    )


def entry_size(
    *, equity: Decimal, mark: Decimal, product: ProductSpec, params: Params
) -> tuple[Decimal, Decimal]:
    """An entry's size (contracts for futures, base units for spot) and its target notional.

    The notional is ``position_fraction`` of equity, times ``leverage`` for futures, capped at
    ``max_trade_usd``; the size is rounded down to the product's increment.
    """
    notional = equity * params.position_fraction
    if product.is_future:
        notional *= params.leverage
    if params.max_trade_usd is not None:
        notional = min(notional, params.max_trade_usd)
    raw = notional / (mark * product.contract_size)
    increments = (raw / product.base_increment).to_integral_value(rounding=ROUND_DOWN)
    return increments * product.base_increment, notional
