"""What risk knows to check orders: a read-only copy of the portfolio's book (positions,
equity, the day's PnL), the latest marks and their times, and the orders in flight.

Everything the order rules need to know about one intent is assembled here into an
:class:`~perpsbot.actors.risk._check.OrderCheck`; the risk actor adds the trading state.
"""

from __future__ import annotations

from collections import deque
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from perpsbot.actors.risk._book import OpenOrders
from perpsbot.actors.risk._check import HeldElsewhere, OrderCheck
from perpsbot.messages import (
    AccountReconciled,
    FuturesAccount,
    MarkSample,
    OrderIntent,
    PortfolioValued,
    PositionChanged,
    PositionView,
    ProductSpec,
    RiskSnapshot,
    TradingState,
)

_MINUTE_NS = 60 * 10**9
_ZERO = Decimal(0)


def _utc_date(ts_ns: int) -> date:
    return datetime.fromtimestamp(ts_ns / 1e9, UTC).date()


class Accounts:
    """The portfolio's figures as last told, marks, and what the order rules count."""

    def __init__(self) -> None:
        self.open = OpenOrders()
        self.products: dict[str, ProductSpec] = {}
        self.futures: FuturesAccount | None = None
        self.valued: PortfolioValued | None = None
        """The portfolio's last valuation; None until it read its book."""
        self._positions: dict[str, PositionView] = {}
        self._read: dict[str, Decimal] = {}
        """Each futures position in the venue's account read that ``futures`` came with."""
        self._marks: dict[str, Decimal] = {}
        self._mark_seen_ns: dict[str, int] = {}  # monotonic time each symbol's mark arrived
        self._allowed_ns: deque[int] = deque()  # monotonic times of orders let through
        self._day: date | None = None

    # -- what the portfolio and the marks tell ---------------------------------------------

    def sampled(self, sample: MarkSample, now_mono_ns: int) -> None:
        """Take a sample's mark (stale or not: it is the latest price known) and its age."""
        if sample.mark is None or sample.age_s is None:
            return
        self._marks[sample.symbol] = sample.mark
        self._mark_seen_ns[sample.symbol] = now_mono_ns - int(sample.age_s * 1e9)

    def mark_age_s(self, symbol: str, now_mono_ns: int) -> float | None:
        seen = self._mark_seen_ns.get(symbol)
        return None if seen is None else (now_mono_ns - seen) / 1e9

    def position_changed(self, message: PositionChanged) -> None:
        self._positions[message.position.symbol] = message.position

    def portfolio_valued(self, message: PortfolioValued) -> None:
        self.valued = message
        self._positions = {view.symbol: view for view in message.positions}

    def futures_account(self, message: AccountReconciled) -> None:
        """Take the venue's futures margin (keeping the last maintenance share the venue
        showed while the account is flat) and the positions read with it, which its figures
        hold (fills booked later are not in them); positions and equity are the portfolio's."""
        if message.futures is not None:
            self.futures = message.futures.following(self.futures)
            self._read = {p.symbol: p.quantity for p in message.positions}

    def roll_day(self, today: date) -> bool:
        """True once per new UTC day (the first call included)."""
        new_day, self._day = self._day != today, today
        return new_day

    def equity(self) -> Decimal | None:
        return None if self.valued is None else self.valued.equity

    def daily_pnl(self) -> Decimal:
        """The portfolio's figure for the day, once it valued the book on this UTC day (a
        valuation from before midnight is no PnL of the new day's)."""
        valued = self.valued
        if valued is None or _utc_date(valued.ts_created_ns) != self._day:
            return _ZERO
        return valued.daily_pnl

    def position(self, symbol: str) -> Decimal:
        view = self._positions.get(symbol)
        return _ZERO if view is None else view.quantity

    def exposure(self, *, excluding: str | None = None) -> Decimal:
        """The USD notional every symbol (but ``excluding``) may reach at worst: its position
        at the latest mark, grown by whatever its unsettled orders may still add."""
        return sum((held.notional for held in self.elsewhere(excluding)), _ZERO)

    def elsewhere(self, excluding: str | None = None) -> tuple[HeldElsewhere, ...]:
        """Every symbol's (but ``excluding``) position and unsettled orders, at its latest
        mark (else the highest price an order of it was checked at, else the portfolio's
        mark); a symbol without any price is left out."""
        found: list[HeldElsewhere] = []
        for symbol in sorted((set(self._positions) | self.open.symbols()) - {excluding}):
            view = self._positions.get(symbol)
            price = self._marks.get(symbol) or self.open.price(symbol)
            if price is None and view is not None:
                price = view.mark
            if price is None:
                continue
            buy, sell = self.open.sizes(symbol)
            found.append(
                HeldElsewhere(
                    symbol=symbol, product=self.products.get(symbol),
                    position=_ZERO if view is None else view.quantity, open_buy=buy,
                    open_sell=sell, price=price, contract_size=self._contract_size(symbol, view),
                    read_position=self._read.get(symbol, _ZERO),
                )
            )  # fmt: skip
        return tuple(found)

    def _contract_size(self, symbol: str, view: PositionView | None) -> Decimal:
        product = self.products.get(symbol)
        if product is not None:
            return product.contract_size
        return Decimal(1) if view is None else view.contract_size

    def risk_snapshot(
        self,
        valued: PortfolioValued,
        *,
        stamp: tuple[str, int],
        state: TradingState,
        reasons: tuple[str, ...],
        starting: bool = False,
    ) -> RiskSnapshot:
        return RiskSnapshot(
            message_id=stamp[0],
            ts_created_ns=stamp[1],
            cycle=valued.cycle or 0,
            state=state,
            reasons=reasons,
            equity=valued.equity,
            realized_pnl=valued.realized_pnl,
            unrealized_pnl=valued.unrealized_pnl,
            daily_pnl=valued.daily_pnl,
            exposure=valued.exposure,
            positions=valued.positions,
            starting=starting,
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
        elsewhere = self.elsewhere(excluding=symbol)
        return OrderCheck(
            intent=intent,
            mark=self._marks.get(symbol),
            mark_age_s=self.mark_age_s(symbol, now_mono_ns),
            position=self.position(symbol),
            open_buy=open_buy,
            open_sell=open_sell,
            read_position=self._read.get(symbol, _ZERO),
            product=self.products.get(symbol),
            other_exposure=sum((held.notional for held in elsewhere), _ZERO),
            elsewhere=elsewhere,
            equity=self.equity(),
            futures=self.futures,
            state=state,
            reasons=reasons,
            daily_pnl=self.daily_pnl(),
            recent_orders=len(self._allowed_ns),
            now_ns=now_ns,
        )

    def allowed(self, order: OrderCheck, now_mono_ns: int) -> None:
        """``order`` went to the executor: it counts against the rate and may fill."""
        self._allowed_ns.append(now_mono_ns)
        self.open.placed(order.intent, order.price)

    # -- restarts and inspection -----------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        return {
            "open": self.open.snapshot(),
            "products": dict(self.products),
            "futures": self.futures,
            "valued": self.valued,
            "positions": dict(self._positions),
            "read": dict(self._read),
            "marks": dict(self._marks),
            "mark_seen_ns": dict(self._mark_seen_ns),
            "allowed_ns": tuple(self._allowed_ns),
            "day": self._day,
        }

    def restore(self, snapshot: dict[str, Any]) -> None:
        self.open.restore(snapshot["open"])
        self.products = dict(snapshot["products"])
        self.futures = snapshot["futures"]
        self.valued = snapshot["valued"]
        self._positions = dict(snapshot["positions"])
        self._read = dict(snapshot["read"])
        self._marks = dict(snapshot["marks"])
        self._mark_seen_ns = dict(snapshot["mark_seen_ns"])
        self._allowed_ns.extend(snapshot["allowed_ns"])
        self._day = snapshot["day"]

    def quantities(self) -> dict[str, Decimal]:
        """Each symbol's quantity, as the portfolio last told it (for inspection)."""
        return {s: v.quantity for s, v in sorted(self._positions.items())}
