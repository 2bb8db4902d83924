"""Risk's books: positions and PnL, equity and the day's PnL, mark times, orders in flight.

Everything the order rules need to know about one intent is assembled here into an
:class:`~perpsbot.actors._risk_rules.OrderCheck`; the risk actor adds the trading state.
"""

from __future__ import annotations

import logging
from collections import deque
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from perpsbot._position import Position
from perpsbot.actors._positions import Baselines, Correction, PositionBook
from perpsbot.actors._risk_book import OpenOrders, RecentFills
from perpsbot.actors._risk_rules import OrderCheck
from perpsbot.messages import (
    AccountReconciled,
    FuturesAccount,
    MarkSample,
    OrderFilled,
    OrderIntent,
    PositionChanged,
    ProductSpec,
    RiskSnapshot,
    TradingState,
)

_MINUTE_NS = 60 * 10**9
logger = logging.getLogger("perpsbot.actors.risk")


def _utc_date(ts_ns: int) -> date:
    return datetime.fromtimestamp(ts_ns / 1e9, UTC).date()


class Accounts:
    """Positions, PnL and what the order rules count, for one risk actor."""

    def __init__(self) -> None:
        self.book = PositionBook()
        self.baselines = Baselines()
        self.open = OpenOrders()
        self.products: dict[str, ProductSpec] = {}
        self.futures: FuturesAccount | None = None
        self._fills = RecentFills()
        self._mark_seen_ns: dict[str, int] = {}  # monotonic time each symbol's mark arrived
        self._allowed_ns: deque[int] = deque()  # monotonic times of orders let through

    # -- marks -----------------------------------------------------------------------------

    def sampled(self, sample: MarkSample, now_mono_ns: int) -> None:
        """Take a sample's mark (stale or not: it is the latest price known) and its age.

        The first mark of a symbol values a position adopted without one: that is no PnL of
        the day's (see :class:`Baselines`)."""
        if sample.mark is None or sample.age_s is None:
            return
        first = self.book.mark(sample.symbol) is None
        before = self.book.net_pnl()
        self.book.set_mark(sample.symbol, sample.mark)
        if first:
            self.baselines = self.baselines.shifted(self.book.net_pnl() - before)
        self._mark_seen_ns[sample.symbol] = now_mono_ns - int(sample.age_s * 1e9)

    def mark_age_s(self, symbol: str, now_mono_ns: int) -> float | None:
        seen = self._mark_seen_ns.get(symbol)
        return None if seen is None else (now_mono_ns - seen) / 1e9

    # -- PnL -------------------------------------------------------------------------------

    def roll_day(self, today: date) -> bool:
        """Count the day's PnL from ``today``; True if that started a new day."""
        new_day = self.baselines.day != today
        self.baselines = self.baselines.on_day(today, self.book.net_pnl())
        return new_day

    def carry_day(self, snapshot: RiskSnapshot | None, today: date) -> bool:
        """Continue the day's PnL from a previous process's last ``snapshot`` if it was taken
        today (UTC); True if it was."""
        if snapshot is None or _utc_date(snapshot.ts_created_ns) != today:
            return False
        self.roll_day(today)
        self.baselines = self.baselines.carried(snapshot.daily_pnl)
        logger.info("the day's PnL continues from %s USD", snapshot.daily_pnl)
        return True

    def equity(self) -> Decimal | None:
        return self.baselines.equity(self.book.net_pnl())

    def daily_pnl(self) -> Decimal:
        return self.baselines.daily_pnl(self.book.net_pnl())

    def fill(self, fill: OrderFilled) -> Position | None:
        """The position after ``fill``; None if this fill was counted before."""
        if not self._fills.first_time(fill.fill_id):
            return None
        return self.book.apply_fill(fill)

    def reconcile(self, message: AccountReconciled) -> list[Correction]:
        """Correct positions to the venue's and take its equity and futures margin (keeping
        the last maintenance share the venue showed while the account is flat)."""
        before = self.book.net_pnl()
        corrections = self.book.reconcile(message.positions)
        after = self.book.net_pnl()
        self.baselines = self.baselines.reconciled(message.equity, after, step=after - before)
        if message.futures is not None:
            self.futures = message.futures.following(self.futures)
        return corrections

    def position_changed(
        self, symbol: str, *, stamp: tuple[str, int], correlation_id: str, cause: str
    ) -> PositionChanged:
        position = self.book.position(symbol)
        return PositionChanged(
            message_id=stamp[0],
            ts_created_ns=stamp[1],
            correlation_id=correlation_id,
            position=position.view(self.book.mark(symbol)),
            cause=cause,
            entry_fill_price=position.entry_fill_price,
        )

    def risk_snapshot(
        self, *, stamp: tuple[str, int], cycle: int, state: TradingState, reasons: tuple[str, ...]
    ) -> RiskSnapshot:
        return RiskSnapshot(
            message_id=stamp[0],
            ts_created_ns=stamp[1],
            cycle=cycle,
            state=state,
            reasons=reasons,
            equity=self.equity(),
            realized_pnl=self.book.realized_net(),
            unrealized_pnl=self.book.unrealized(),
            daily_pnl=self.daily_pnl(),
            exposure=self.book.exposure(),
            positions=self.book.views(),
        )

    # -- the order gate --------------------------------------------------------------------

    def order_check(
        self,
        intent: OrderIntent,
        *,
        state: TradingState,
        reasons: tuple[str, ...],
        now_mono_ns: int,
        now_ns: int,
    ) -> OrderCheck:
        symbol = intent.symbol
        while self._allowed_ns and now_mono_ns - self._allowed_ns[0] >= _MINUTE_NS:
            self._allowed_ns.popleft()
        open_buy, open_sell = self.open.sizes(symbol)
        return OrderCheck(
            intent=intent,
            mark=self.book.mark(symbol),
            mark_age_s=self.mark_age_s(symbol, now_mono_ns),
            position=self.book.position(symbol).quantity,
            open_buy=open_buy,
            open_sell=open_sell,
            product=self.products.get(symbol),
            other_exposure=self.book.exposure(excluding=symbol),
            equity=self.equity(),
            futures=self.futures,
            state=state,
            reasons=reasons,
            daily_pnl=self.daily_pnl(),
            recent_orders=len(self._allowed_ns),
            now_ns=now_ns,
        )

    def allowed(self, intent: OrderIntent, now_mono_ns: int) -> None:
        """``intent`` went to the executor: it counts against the rate and may fill."""
        self._allowed_ns.append(now_mono_ns)
        self.open.placed(intent)

    # -- restarts and inspection -----------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        return {
            "book": self.book.snapshot(),
            "baselines": self.baselines,
            "open": self.open.snapshot(),
            "products": dict(self.products),
            "futures": self.futures,
            "fills": self._fills.snapshot(),
            "mark_seen_ns": dict(self._mark_seen_ns),
            "allowed_ns": tuple(self._allowed_ns),
        }

    def restore(self, snapshot: dict[str, Any]) -> None:
        self.book.restore(snapshot["book"])
        self.baselines = snapshot["baselines"]
        self.open.restore(snapshot["open"])
        self.products = dict(snapshot["products"])
        self.futures = snapshot["futures"]
        self._fills.restore(snapshot["fills"])
        self._mark_seen_ns = dict(snapshot["mark_seen_ns"])
        self._allowed_ns.extend(snapshot["allowed_ns"])

    def describe(self, symbols: tuple[str, ...], now_mono_ns: int) -> dict[str, Any]:
        equity = self.equity()
        return {
            "equity": None if equity is None else str(equity),
            "daily_pnl": str(self.daily_pnl()),
            "exposure": str(self.book.exposure()),
            "positions": {v.symbol: str(v.quantity) for v in self.book.views()},
            "open_orders": self.open.describe(),
            "mark_age_s": {s: self.mark_age_s(s, now_mono_ns) for s in symbols},
        }
