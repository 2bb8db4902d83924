"""The synthetic market of one product: a seeded random walk and the book it implies."""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Callable, Mapping
from decimal import Decimal

import attrs

from perpsbot.sim._book import BookSide, Levels
from perpsbot.sim._history import HISTORY_DAYS, day_candles, deep_history
from perpsbot.sim._products import SimProduct
from perpsbot.sim._wire import quantize_down, quantize_near

BID = "bid"
OFFER = "offer"


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
        self.bid_side = BookSide(spec, descending=True)
        self.ask_side = BookSide(spec, descending=False)
        self._mid: Decimal | None = None  # of the sides above, made at the first look
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
        """Lay fresh levels around the fair price, keeping most sizes at unchanged prices
        (``BookSide.laid``)."""
        spec = self.spec
        fair = Decimal(repr(self.fair))
        best_bid = quantize_down(fair - spec.level_spacing / 2, spec.price_increment)
        self.bid_side = self.bid_side.laid(rng, best_bid, self._levels)
        self.ask_side = self.ask_side.laid(rng, best_bid + spec.level_spacing, self._levels)
        self._mid = None

    @property
    def bids(self) -> Mapping[Decimal, Decimal]:
        """The synthetic bid levels, price -> size (read only; saved and restored)."""
        return self.bid_side.levels()

    @bids.setter
    def bids(self, levels: Mapping[Decimal, Decimal]) -> None:
        self.bid_side = BookSide.of_levels(self.spec, levels, descending=True)
        self._mid = None

    @property
    def asks(self) -> Mapping[Decimal, Decimal]:
        """The synthetic ask levels, price -> size (read only; saved and restored)."""
        return self.ask_side.levels()

    @asks.setter
    def asks(self, levels: Mapping[Decimal, Decimal]) -> None:
        self.ask_side = BookSide.of_levels(self.spec, levels, descending=False)
        self._mid = None

    def liquidity(self, taker_side: str) -> BookSide:
        """The side a ``taker_side`` ("BUY" or "SELL") order takes from: the asks of a buy."""
        return self.ask_side if taker_side == "BUY" else self.bid_side

    def take(self, taker_side: str, price: Decimal, size: Decimal) -> None:
        """Take ``size`` from the level at ``price`` of the side a ``taker_side`` order meets."""
        if taker_side == "BUY":
            self.ask_side = self.ask_side.taken(price, size)
        else:
            self.bid_side = self.bid_side.taken(price, size)
        self._mid = None

    # --- prints and candles -----------------------------------------------------------------

    def synthetic_trade(
        self, rng: random.Random, next_trade_id: Callable[[], str], now_ns: int
    ) -> Trade | None:
        best_bid, best_ask = self.bid_side.best, self.ask_side.best
        if best_bid is None or best_ask is None or rng.random() < 0.5:
            return None
        maker_side = "SELL" if rng.random() < 0.5 else "BUY"
        price = best_ask if maker_side == "SELL" else best_bid
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
        best = self.bid_side.best
        return Decimal(0) if best is None else best

    @property
    def best_ask(self) -> Decimal:
        best = self.ask_side.best
        return Decimal(0) if best is None else best

    @property
    def mid(self) -> Decimal:
        if self._mid is None:
            best_bid, best_ask = self.bid_side.best, self.ask_side.best
            if best_bid is None or best_ask is None:
                return self.last_price  # it may move while the book stays empty
            self._mid = quantize_near((best_bid + best_ask) / 2, self.spec.quote_increment)
        return self._mid
