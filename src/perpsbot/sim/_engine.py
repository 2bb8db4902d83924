"""The exchange's state and its market clock: one lock, one seeded RNG, events out."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from decimal import Decimal
from typing import Any

from perpsbot.cfm_calendar import is_intraday
from perpsbot.clock import Clock
from perpsbot.config import SimConfig
from perpsbot.ids import seeded_rng
from perpsbot.sim._accounts import BalanceSummary, SimFuturesAccount, SpotWallet, summary_ws_json
from perpsbot.sim._book import Levels, PublishedBook
from perpsbot.sim._config import derived_seed
from perpsbot.sim._events import (
    BookChanged,
    FuturesBalanceChanged,
    OrderChanged,
    SimEvent,
    TickerChanged,
    TradesPrinted,
)
from perpsbot.sim._fill_log import FillLog
from perpsbot.sim._funding import FundingState
from perpsbot.sim._horizon import SettledHorizon
from perpsbot.sim._market import BID, OFFER, ProductMarket, Trade, diff_levels
from perpsbot.sim._orders import SimOrder, order_ws_json
from perpsbot.sim._products import CATALOGUE, ProductLive, SimProduct
from perpsbot.sim._resting import work_resting_orders
from perpsbot.sim._wire import dec

Listener = Callable[[SimEvent], None]


class SimEngine:
    """Products, markets, orders, fills and accounts of the simulated exchange.

    Every public method takes :attr:`lock`; REST threads and the market ticker share it.
    Randomness comes from RNGs seeded by ``config.seed`` only, so one seed and one sequence of
    calls always give the same prices, books and ids.
    """

    def __init__(
        self,
        config: SimConfig,
        clock: Clock,
        *,
        own_candles: bool = True,
        forget_settled_after_s: float | None = None,
    ) -> None:
        # Reentrant; a kept state swaps in one that saves on release (sim/_keeper.py).
        self.lock: AbstractContextManager[object] = threading.RLock()
        self.config = config
        self.clock = clock
        # The sim's only randomness: RNGs from perpsbot.ids seeded by config.seed.
        self._rng = seeded_rng(derived_seed(config.seed, "market"))
        self._ids = seeded_rng(derived_seed(config.seed, "ids"))
        start_ns = clock.time_ns()
        self.specs: dict[str, SimProduct] = {s.product_id: s for s in CATALOGUE}
        self.markets = {
            pid: ProductMarket(
                spec,
                levels=config.book_levels,
                start_ns=start_ns,
                seed=config.seed,
                own_candles=own_candles,
            )
            for pid, spec in self.specs.items()
        }
        self.wallet = SpotWallet(config.balances, config.seed)
        self.futures = SimFuturesAccount(config.cfm_usd_balance)
        self.orders: dict[str, SimOrder] = {}
        self.by_client_id: dict[str, str] = {}
        self._resting: dict[str, dict[str, SimOrder]] = {}  # product -> resting orders by id
        self.fills = FillLog()
        self.horizon = (
            None if forget_settled_after_s is None else SettledHorizon(forget_settled_after_s)
        )
        """Forgets settled orders and their fills after a while (None: keeps them all)."""
        self.trading_disabled: set[str] = set()
        self.cancel_only: set[str] = set()
        self.visibility_delay_s = 0.0
        self.duplicate_ids = config.duplicate_client_order_id  # a fault may switch it
        self.clock_skew_ns = 0
        self.stuck_cancels = 0  # cancels to leave in CANCEL_QUEUED (a fault)
        self.stuck_orders: list[SimOrder] = []
        perpetuals = [pid for pid, spec in self.specs.items() if spec.is_future]
        self.funding = FundingState.starting(perpetuals, start_ns)
        self.steps = 0
        self._trade_seq = 100_000_000
        self._listeners: list[Listener] = []
        self._published: dict[str, PublishedBook] = {}
        self._last_ticker: dict[str, dict[str, Any]] = {}
        for market in self.markets.values():
            market.rebuild(self._rng)
        for pid in self.markets:
            self._published[pid] = self._book_view(pid)

    # --- plumbing ---------------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> None:
        with self.lock:
            self._listeners.append(listener)

    def emit(self, event: SimEvent) -> None:
        for listener in self._listeners:
            listener(event)

    def new_uuid(self) -> str:
        return str(uuid.UUID(int=self._ids.getrandbits(128), version=4))

    @property
    def last_trade_id(self) -> int:
        return self._trade_seq

    def next_trade_id(self) -> str:
        self._trade_seq += 1
        return str(self._trade_seq)

    def now_ns(self) -> int:
        """The exchange's wall clock: the injected clock plus any injected skew."""
        return self.clock.time_ns() + self.clock_skew_ns

    def marks(self) -> dict[str, Decimal]:
        return {pid: m.mid for pid, m in self.markets.items()}

    def intraday(self) -> bool:
        """True while the venue charges its intraday margin rates (else the overnight ones)."""
        return is_intraday(self.now_ns())

    def catch_up(self) -> None:
        """Settle and accrue the funding due by now (the market clock does too, at each step):
        whoever reads or trades sees the account as of now."""
        with self.lock:
            now = self.now_ns()
            if not self.funding.due(now):
                return  # nearly always: funding is hourly
            if self.funding.catch_up(
                self.futures, self.specs, self.marks(), now_ns=now, seed=self.config.seed
            ):
                self.publish_balance()

    def rest(self, order: SimOrder) -> None:
        """Index an order that now rests on the book."""
        self._resting.setdefault(order.product_id, {})[order.order_id] = order

    def resting_orders(self, pid: str) -> list[SimOrder]:
        """Open orders resting on ``pid``, oldest first; closed ones leave the index here."""
        index = self._resting.get(pid, {})
        for order_id in [k for k, o in index.items() if not o.is_open]:
            del index[order_id]
        return list(index.values())

    def visible(self, order: SimOrder) -> bool:
        return self.clock.monotonic() >= order.visible_after_mono

    # --- the market clock --------------------------------------------------------------------

    def step(self, prices: Mapping[str, Decimal] | None = None) -> None:
        """Advance every market by one tick: walk, rebuild, fill resting orders, fund, publish.

        With ``prices`` (a backtest's bar path) only the markets named there move, to those
        fair prices, with their books laid around them as always; the others stand still
        (no walk, no print, no new levels) unless a resting order of theirs fills."""
        with self.lock:
            self.steps += 1
            now = self.now_ns()
            vol = self.config.volatility
            moving = self.markets if prices is None else {p: self.markets[p] for p in prices}
            for pid, market in moving.items():
                if prices is None:
                    under = market.spec.underlying
                    market.walk(self._rng, vol, self.markets[under].fair if under else None)
                else:
                    market.fair = float(prices[pid])
                market.rebuild(self._rng)
            trades: list[Trade] = []
            for market in moving.values():
                trade = market.synthetic_trade(self._rng, self.next_trade_id, now)
                if trade is not None:
                    trades.append(trade)
                market.mark(now)
            self.catch_up()  # the funding due by now, before this step's fills move positions
            # A book moves with its market, and with our resting orders (fills, expiries).
            changed = set(moving) | {pid for pid, index in self._resting.items() if index}
            for pid in self.markets:
                if not self._resting.get(pid):
                    continue  # no order of ours rests there
                filled = work_resting_orders(self, pid, now)
                if filled:
                    trades += filled
                    changed.add(pid)
            if trades:
                self.emit(TradesPrinted(trades=tuple(trades)))
            if self.horizon is not None:
                self.horizon.look(self, now)
            for pid in self.markets:
                if pid in changed:
                    self.publish_book(pid)
                    self.publish_ticker(pid)

    # --- publishing ---------------------------------------------------------------------------

    def _book_view(self, pid: str) -> PublishedBook:
        """The synthetic levels with our resting orders added on top."""
        market = self.markets[pid]
        own = tuple(
            (order.side, order.limit_price, order.remaining)
            for order in self.resting_orders(pid)
            if order.limit_price is not None and not order.is_pending_stop
        )
        return PublishedBook(market.bid_side, market.ask_side, own)

    def publish_book(self, pid: str) -> None:
        old = self._published[pid]
        new = self._book_view(pid)
        self._published[pid] = new
        if not self._listeners:
            return  # nobody hears the changes (a backtest's exchange): none worked out
        (old_bids, old_asks), (bids, asks) = old.levels(), new.levels()
        changes = diff_levels(BID, old_bids, bids) + diff_levels(OFFER, old_asks, asks)
        if changes:
            self.emit(BookChanged(product_id=pid, changes=tuple(changes), time_ns=self.now_ns()))

    def published_book(self, pid: str) -> tuple[Levels, Levels]:
        """The book as last published: bids and asks, price -> size (copies)."""
        with self.lock:
            bids, asks = self._published[pid].levels()
            return dict(bids), dict(asks)

    def published_top(
        self, pid: str, limit: int
    ) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        """The best ``limit`` levels of each side of the book as last published, best first."""
        with self.lock:
            return self._published[pid].top(limit)

    def publish_ticker(self, pid: str) -> None:
        """Emit the ticker of ``pid`` if anything in it moved since the last one."""
        if not self._listeners:
            self._last_ticker.pop(pid, None)  # nobody hears it; a later listener hears the next
            return
        ticker = self.ticker_json(pid)
        if self._last_ticker.get(pid) != ticker:
            self._last_ticker[pid] = ticker
            self.emit(TickerChanged(product_id=pid, ticker=ticker))

    def publish_order(self, order: SimOrder) -> None:
        self.emit(OrderChanged(order=order_ws_json(order)))

    def publish_balance(self) -> None:
        self.emit(FuturesBalanceChanged(summary=self.balance_ws_json()))

    def balance_summary(self) -> BalanceSummary:
        """The futures balance summary now, at the margin window in effect."""
        return self.futures.summary(
            self.specs, self.marks(), self.wallet.available("USD"), intraday=self.intraday()
        )

    def balance_ws_json(self) -> dict[str, Any]:
        return summary_ws_json(self.balance_summary())

    def ticker_json(self, pid: str) -> dict[str, Any]:
        market = self.markets[pid]
        top_bids, top_asks = self._published[pid].top(1)
        best_bid, bid_size = top_bids[0] if top_bids else (Decimal(0), Decimal(0))
        best_ask, ask_size = top_asks[0] if top_asks else (Decimal(0), Decimal(0))
        change = (market.last_price - market.open_24h) * 100 / market.open_24h
        return {
            "type": "ticker",
            "product_id": pid,
            "price": dec(market.last_price),
            "volume_24_h": dec(market.volume_24h),
            "low_24_h": dec(market.low_24h),
            "high_24_h": dec(market.high_24h),
            "low_52_w": dec(market.low_24h),
            "high_52_w": dec(market.high_24h),
            "price_percent_chg_24_h": dec(change.quantize(Decimal("0.00000001"))),
            "best_bid": dec(best_bid),
            "best_bid_quantity": dec(bid_size),
            "best_ask": dec(best_ask),
            "best_ask_quantity": dec(ask_size),
        }

    def product_live(self, pid: str) -> ProductLive:
        market, now = self.markets[pid], self.now_ns()
        spec = self.specs[pid]
        index = self.markets[spec.underlying].mid if spec.underlying else market.mid
        open_interest = sum(
            (abs(p.contracts) for q, p in self.futures.positions.items() if q == pid), Decimal(0)
        )
        return ProductLive(
            price=market.last_price,
            mid=market.mid,
            index_price=index,
            volume_24h=market.volume_24h,
            price_change_24h_pct=(
                (market.last_price - market.open_24h) * 100 / market.open_24h
            ).quantize(Decimal("0.00000001")),
            funding_rate=self.funding.rates.get(pid, Decimal(0)),
            funding_time_ns=self.funding.next_funding_ns if spec.is_future else 0,
            open_interest=open_interest + Decimal(180_000),
            now_ns=now,
            trading_disabled=pid in self.trading_disabled,
            cancel_only=pid in self.cancel_only,
        )
