"""The synthetic market of one product: a seeded random walk and the book it implies."""

from __future__ import annotations

import functools
import math
import random
from collections import deque
from collections.abc import Callable
from decimal import ROUND_DOWN, Decimal

import attrs

from perpsbot.sim._history import HISTORY_DAYS, day_candles, deep_history
from perpsbot.sim._products import SimProduct
from perpsbot.sim._wire import quantize_down, quantize_near

BID = "bid"
OFFER = "offer"

Levels = dict[Decimal, Decimal]


@attrs.frozen(kw_only=True)
class LevelChange:
    """A new absolute size at one price; size 0 deletes the level."""

    side: str  # "bid" or "offer"
    price: Decimal
    size: Decimal


@attrs.frozen(kw_only=True)
class Trade:
    """A market print; ``side`` is the maker's side, as Coinbase reports it."""

    trade_id: str
    product_id: str
    price: Decimal
    size: Decimal
    side: str
    time_ns: int


#: ``uniform(0.2, 1.8)``'s span, as ``random.uniform`` computes it.
_SIZE_SPAN = 1.8 - 0.2


@functools.cache
def _depth_scales(levels: int) -> tuple[float, ...]:
    """How much larger a random level is at each depth: ``1 + 0.15 * depth``."""
    return tuple(1 + 0.15 * depth for depth in range(levels))


def diff_levels(side: str, old: Levels, new: Levels) -> list[LevelChange]:
    changes = [LevelChange(side=side, price=p, size=Decimal(0)) for p in old if p not in new]
    changes += [LevelChange(side=side, price=p, size=s) for p, s in new.items() if old.get(p) != s]
    return sorted(changes, key=lambda c: c.price, reverse=(side == BID))


class ProductMarket:
    """Fair price, synthetic levels, recent trades and one-minute candles of one product.

    ``own_candles=False`` keeps no candles of its own minutes (only the generated history
    before the start): for a run whose prices come from candles already (a backtest), where
    they would only grow, a minute at a time, for as long as the run lasts."""

    def __init__(
        self, spec: SimProduct, *, levels: int, start_ns: int, seed: int, own_candles: bool = True
    ) -> None:
        self.spec = spec
        self._own_candles = own_candles
        self.fair = float(spec.start_price)
        self.basis = 0.0
        self.bids: Levels = {}
        self.asks: Levels = {}
        self.last_price = spec.start_price
        self.open_24h = spec.start_price
        self.high_24h = spec.start_price
        self.low_24h = spec.start_price
        self.volume_24h = spec.level_size * 400
        self.trades: deque[Trade] = deque(maxlen=200)
        self.candles: dict[int, list[Decimal]] = {}  # minute start (s) -> [o, h, l, c, v]
        # Where the generated history ends and this market's own candles begin (its first
        # minute and open): older minutes are generated from the seed on demand.
        self.history_origin_s = 0
        self.history_origin_open = spec.start_price
        self._seed = seed
        self._levels = levels
        self._history(start_ns, seed)

    # --- the walk -------------------------------------------------------------------------

    def walk(self, rng: random.Random, volatility: float, underlying: float | None) -> None:
        """Move the fair price one step: a geometric walk, or the underlying plus a basis."""
        if underlying is None:
            self.fair *= math.exp(rng.gauss(0.0, volatility))
        else:
            self.basis = 0.9 * self.basis + rng.gauss(0.0, 0.00005)
            self.fair = underlying * (1.0 + 0.0001 + self.basis)

    def rebuild(self, rng: random.Random) -> None:
        """Lay fresh levels around the fair price, keeping most sizes at unchanged prices."""
        spec = self.spec
        tick, spacing = spec.price_increment, spec.level_spacing
        fair = Decimal(repr(self.fair))
        best_bid = quantize_down(fair - spacing / 2, tick)
        best_ask = best_bid + spacing
        self.bids = self._side(
            rng, self.bids, [best_bid - i * spacing for i in range(self._levels)]
        )
        self.asks = self._side(
            rng, self.asks, [best_ask + i * spacing for i in range(self._levels)]
        )

    def _side(self, rng: random.Random, old: Levels, prices: list[Decimal]) -> Levels:
        """The levels at ``prices`` (best first): a size kept where one stood at that price
        (seven times in ten), else a random one, ``uniform(0.2, 1.8)`` times the product's
        level size, deeper levels 15% larger per level, rounded down to the base increment
        and at least the minimum size.

        The hottest loop of a backtest's exchange (every level of every path point): the
        draws, and so every size, are those of ``rng.uniform`` written out."""
        new: Levels = {}
        draw = rng.random
        spec = self.spec
        level_size, step, smallest = spec.level_size, spec.base_increment, spec.base_min_size
        depth_scale = _depth_scales(len(prices))
        for depth, price in enumerate(prices):
            if price <= 0:
                continue
            kept = old.get(price)
            if kept is not None and draw() < 0.7:
                new[price] = kept
                continue
            # rng.uniform(0.2, 1.8) is 0.2 + (1.8 - 0.2) * rng.random(): the same float.
            scale = Decimal(repr(round((0.2 + _SIZE_SPAN * draw()) * depth_scale[depth], 6)))
            size = (level_size * scale / step).to_integral_value(rounding=ROUND_DOWN) * step
            new[price] = smallest if smallest > size else size  # max(size, smallest)
        return new

    # --- prints and candles -----------------------------------------------------------------

    def synthetic_trade(
        self, rng: random.Random, next_trade_id: Callable[[], str], now_ns: int
    ) -> Trade | None:
        if not self.bids or not self.asks or rng.random() < 0.5:
            return None
        maker_side = "SELL" if rng.random() < 0.5 else "BUY"
        price = min(self.asks) if maker_side == "SELL" else max(self.bids)
        size = quantize_down(
            self.spec.level_size * Decimal(repr(round(rng.uniform(0.01, 0.3), 6))),
            self.spec.base_increment,
        )
        size = max(size, self.spec.base_min_size)
        return self.record_trade(next_trade_id(), price, size, maker_side, now_ns)

    def record_trade(
        self, trade_id: str, price: Decimal, size: Decimal, maker_side: str, now_ns: int
    ) -> Trade:
        trade = Trade(
            trade_id=trade_id,
            product_id=self.spec.product_id,
            price=price,
            size=size,
            side=maker_side,
            time_ns=now_ns,
        )
        self.trades.append(trade)
        self.last_price = price
        self.volume_24h += size
        self._candle(now_ns, price, size)
        return trade

    def mark(self, now_ns: int) -> None:
        """Fold the current mid into the candle of this minute."""
        self._candle(now_ns, self.mid, Decimal(0))

    def _candle(self, now_ns: int, price: Decimal, size: Decimal) -> None:
        start = (now_ns // 10**9) // 60 * 60
        candle = self.candles.get(start)
        self.high_24h = max(self.high_24h, price)
        self.low_24h = min(self.low_24h, price)
        if not self._own_candles:
            return
        if candle is None:
            self.candles[start] = [price, price, price, price, size]
        else:
            candle[1] = max(candle[1], price)
            candle[2] = min(candle[2], price)
            candle[3] = price
            candle[4] += size

    def _history(self, start_ns: int, seed: int) -> None:
        """A day of one-minute candles before the start, seeded by the seed and product id."""
        first_minute = (start_ns // 10**9) // 60 * 60 - 1440 * 60
        for i, candle in enumerate(
            day_candles(self.spec, seed, first_minute, self.spec.start_price)
        ):
            self.candles[first_minute + 60 * i] = list(candle)
        self.history_origin_s = first_minute
        self.history_origin_open = self.candles[first_minute][0]
        self.open_24h = self.candles[first_minute][0]
        self.high_24h = max(c[1] for c in self.candles.values())
        self.low_24h = min(c[2] for c in self.candles.values())

    def minute_candles(self, from_s: int, to_s: int) -> list[tuple[int, list[Decimal]]]:
        """The one-minute candles starting in ``[from_s, to_s)``, oldest first: generated
        history (from the listing, :data:`HISTORY_DAYS` before the origin) and then the
        market's own minutes. A minute without a candle is a gap, as at the venue."""
        out: list[tuple[int, list[Decimal]]] = []
        origin = self.history_origin_s
        if from_s < origin:
            out += deep_history(
                self.spec, self._seed, origin, self.history_origin_open, (from_s, min(to_s, origin))
            )
        out += sorted((m, c) for m, c in self.candles.items() if from_s <= m < to_s)
        return out

    @property
    def listed_s(self) -> int:
        """The first minute with a candle: the product's listing, as far as candles go."""
        return self.history_origin_s - HISTORY_DAYS * 86400

    # --- views ------------------------------------------------------------------------------

    @property
    def best_bid(self) -> Decimal:
        return max(self.bids) if self.bids else Decimal(0)

    @property
    def best_ask(self) -> Decimal:
        return min(self.asks) if self.asks else Decimal(0)

    @property
    def mid(self) -> Decimal:
        if not self.bids or not self.asks:
            return self.last_price
        return quantize_near((self.best_bid + self.best_ask) / 2, self.spec.quote_increment)
