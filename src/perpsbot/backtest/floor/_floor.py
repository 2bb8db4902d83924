"""The one-thread floor: the strategy's decisions, risk's per-order rules and the position
maths called directly on each candle, with no actors, no messages between them and no
exchange. What a backtest through the actor tree costs is measured against it.

Each candle's close is the symbol's mark at the candle's start time and the whole window is
fresh (a candle is never stale). An order risk lets through fills at once, at that close,
whole, paying the simulated exchange's taker fee (``sim.taker_fee_rate`` of the notional for
spot, ``sim.futures_fee_per_contract`` a contract for futures); its position is there on the
next candle (the actor tree's order round trip takes at least that). Funding is not accrued.
The futures account is modelled as every USD of equity with the initial margin of the
positions held as its liquidation threshold (the venue's maintenance share assumed to be 1,
as risk does before the venue has shown one).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal

import attrs

from perpsbot._position import Position
from perpsbot.actors.risk import _margin as margin
from perpsbot.actors.risk._check import OrderCheck, first_denial
from perpsbot.actors.risk._rules import order_rules
from perpsbot.actors.strategy._crossover import samples_needed
from perpsbot.actors.strategy._decisions import Params, Situation, WantedOrder, decide
from perpsbot.actors.strategy._trading_window import TradingWindow
from perpsbot.actors.strategy._trailing_stop import TrailingStop
from perpsbot.config import BotConfig
from perpsbot.errors import BacktestInputError
from perpsbot.messages import (
    IntentPurpose,
    MarkSample,
    MarkSource,
    OrderIntent,
    ProductSpec,
    Side,
    Signal,
)
from perpsbot.messages.account import FuturesAccount
from perpsbot.venue.records import Candle

__all__ = ["FloorOrder", "FloorRun", "floor"]

_ZERO = Decimal(0)
_NS = 10**9
_MINUTE_NS = 60 * _NS


@attrs.frozen(kw_only=True)
class FloorOrder:
    """An order the floor filled: when (the candle's start), what, at which close, and why."""

    ts_s: int
    symbol: str
    side: Side
    size: Decimal
    price: Decimal
    fee: Decimal
    purpose: IntentPurpose
    reason: str


@attrs.frozen(kw_only=True)
class FloorRun:
    bars: int
    """Candles processed (every symbol's)."""
    orders: tuple[FloorOrder, ...]
    denials: int
    """Orders risk's rules denied."""
    positions: Mapping[str, Position]
    """At the end."""
    equity: Decimal
    """At the last close: starting equity plus every symbol's net PnL, unrealized included."""

    @property
    def round_trips(self) -> int:
        """Positions closed back to flat (a fill through zero closes one)."""
        return sum(1 for order in self.orders if order.purpose is IntentPurpose.EXIT)


@attrs.define
class _Book:
    """One symbol: its product, mark window, position, trailing stop and pending reversal."""

    product: ProductSpec
    window: deque[Decimal]
    position: Position
    mark: Decimal | None = None
    stop: TrailingStop | None = None
    reversal: Signal | None = None


def floor(
    candles: Mapping[str, Sequence[Candle]],
    config: BotConfig,
    *,
    products: Mapping[str, ProductSpec],
    starting_equity: Decimal,
) -> FloorRun:
    """Runs ``config``'s strategy and risk rules over ``candles`` (each symbol's, oldest first),
    from ``starting_equity`` USD, sized with ``products`` (the venue's specs of the symbols).

    Raises:
        BacktestInputError: a symbol of ``candles`` has no product in ``products``.
    """
    missing = sorted(set(candles) - set(products))
    if missing:
        raise BacktestInputError(
            f"floor needs a product spec for every symbol with candles, missing {missing}"
            f" (products given: {sorted(products)})"
        )
    params = Params.from_config(config)
    rules = order_rules(config.risk)
    trading_window = TradingWindow.from_config(config.strategy)
    window_size = max(
        samples_needed(long=params.long, confirm_bars=params.confirm_bars),
        max(params.short, params.long) + 5,
    )
    books = {
        symbol: _Book(
            product=products[symbol],
            window=deque(maxlen=window_size),
            position=Position(symbol=symbol, contract_size=products[symbol].contract_size),
        )
        for symbol in sorted(candles)
    }
    bars = sorted(
        (
            (candle.start_s, symbol, candle)
            for symbol, series in candles.items()
            for candle in series
        ),
        key=lambda bar: (bar[0], bar[1]),
    )
    orders: list[FloorOrder] = []
    recent_ns: deque[int] = deque()
    denials = 0
    day, day_start_equity = -1, starting_equity
    for start_s, symbol, candle in bars:
        book = books[symbol]
        now_ns = start_s * _NS
        book.mark = candle.close
        book.window.append(candle.close)
        equity = starting_equity + sum((b.position.net_pnl(b.mark) for b in books.values()), _ZERO)
        if start_s // 86_400 != day:  # a new UTC day: risk's daily loss counts from here
            day, day_start_equity = start_s // 86_400, equity
        exposure = sum((b.position.notional(b.mark) for b in books.values()), _ZERO)
        decision = decide(
            Situation(
                sample=MarkSample(
                    symbol=symbol,
                    mark=candle.close,
                    source=MarkSource.STREAM,
                    age_s=0.0,
                    stale=False,
                    window=tuple(book.window),
                ),
                position=book.position.quantity,
                stop=book.stop,
                in_window=trading_window.contains(datetime.fromtimestamp(start_s, UTC)),
                reversal=book.reversal,
                equity=equity,
                product=book.product,
                exposure=exposure,
                now_ns=now_ns,
            ),
            params,
        )
        book.stop, book.reversal = decision.stop, decision.reversal
        if decision.order is None:
            continue
        while recent_ns and recent_ns[0] <= now_ns - _MINUTE_NS:
            recent_ns.popleft()
        intent = _intent(
            decision.order, symbol=symbol, book=book, params=params, now_ns=now_ns,
            reason=decision.reason, config=config,
        )  # fmt: skip
        denial = first_denial(
            rules,
            OrderCheck(
                intent=intent,
                mark=candle.close,
                mark_age_s=0.0,
                position=book.position.quantity,
                product=book.product,
                other_exposure=exposure - book.position.notional(book.mark),
                equity=equity,
                futures=_futures_account(books, equity, config, now_ns),
                daily_pnl=equity - day_start_equity,
                recent_orders=len(recent_ns),
                now_ns=now_ns,
            ),
        )
        if denial is not None:
            denials += 1
            continue
        recent_ns.append(now_ns)
        orders.append(
            _fill(book, intent=intent, candle=candle, start_s=start_s, config=config, params=params)
        )
    return FloorRun(
        bars=len(bars),
        orders=tuple(orders),
        denials=denials,
        positions={symbol: book.position for symbol, book in books.items()},
        equity=starting_equity + sum((b.position.net_pnl(b.mark) for b in books.values()), _ZERO),
    )


def _intent(
    order: WantedOrder,
    *,
    symbol: str,
    book: _Book,
    params: Params,
    now_ns: int,
    reason: str,
    config: BotConfig,
) -> OrderIntent:
    assert book.mark is not None  # set before every decision
    return OrderIntent(
        message_id=f"floor:{symbol}:{now_ns}",
        ts_created_ns=now_ns,
        intent_id=f"{symbol}:{order.purpose}:{now_ns}",
        symbol=symbol,
        side=order.side,
        size=order.size,
        purpose=order.purpose,
        leverage=params.leverage if book.product.is_future else None,
        reference_mark=book.mark,
        reason=reason,
        valid_until_ns=now_ns + int(config.execution.intent_ttl_s * _NS),
    )


def _fill(
    book: _Book,
    *,
    intent: OrderIntent,
    candle: Candle,
    start_s: int,
    config: BotConfig,
    params: Params,
) -> FloorOrder:
    product, price, size = book.product, candle.close, intent.size
    if product.is_future:
        fee = config.sim.futures_fee_per_contract * size
    else:
        fee = size * product.contract_size * price * config.sim.taker_fee_rate
    before = book.position.quantity
    book.position = book.position.with_fill(
        side=intent.side, price=price, size=size, fee=fee, contract_size=product.contract_size
    )
    after = book.position.quantity
    if not after:
        book.stop = None
    elif before * after <= 0:  # opened (or flipped): the stop starts at the fill's price
        book.stop = TrailingStop(long=after > 0, pct=params.trailing_stop_pct, peak=price)
    return FloorOrder(
        ts_s=start_s,
        symbol=intent.symbol,
        side=intent.side,
        size=size,
        price=price,
        fee=fee,
        purpose=intent.purpose,
        reason=intent.reason,
    )


def _futures_account(
    books: Mapping[str, _Book], equity: Decimal, config: BotConfig, now_ns: int
) -> FuturesAccount:
    held = _ZERO
    for symbol, book in books.items():
        if book.product.is_future and book.position.quantity and book.mark is not None:
            held += margin.initial_margin(
                book.product,
                book.position.quantity,
                book.mark,
                config.risk.leverage_cap(symbol),
                now_ns,
            )[0]
    return FuturesAccount(buffer=equity - held, threshold=held)
