"""The checks every order intent passes before it reaches the executor, one small rule each.

Each rule looks at an :class:`OrderCheck` (the intent, priced at the worse of the latest mark
and its limit, with the facts risk holds at that moment) and returns the reason it denies the
order, numbers included, or None. A limit is allowed AT its value and denied past it. Rules
that bound growth (notional, exposure, leverage, liquidation buffer, daily loss) never block
an order that only reduces a position: reducing risk is always allowed while trading is not
HALTED.
"""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

import attrs

from perpsbot.actors.risk import _margin as margin
from perpsbot.actors.risk._check import HeldElsewhere, OrderCheck, Rule, num, usd
from perpsbot.config import RiskConfig
from perpsbot.messages import IntentPurpose, Side, TradingState
from perpsbot.messages.account import FuturesAccount

_ZERO = Decimal(0)


def _holding(order: OrderCheck) -> str:
    return "; ".join(order.reasons) or "no reason recorded"


@attrs.frozen
class Halted:
    name: ClassVar[str] = "halted"

    def check(self, order: OrderCheck) -> str | None:
        if order.state is TradingState.HALTED:
            return f"trading is HALTED ({_holding(order)}); {order.describe()} refused"
        return None


@attrs.frozen
class IntentExpired:
    name: ClassVar[str] = "intent_expired"

    def check(self, order: OrderCheck) -> str | None:
        late_ns = order.now_ns - order.intent.valid_until_ns
        if late_ns > 0:
            return f"intent {order.intent.intent_id} expired {late_ns / 1e9:.3f}s ago"
        return None


@attrs.frozen
class KnownProduct:
    name: ClassVar[str] = "product"

    def check(self, order: OrderCheck) -> str | None:
        if order.product is None:
            return f"no product data for {order.symbol} yet (contract size unknown)"
        if not order.product.tradable:
            return f"{order.symbol} is not tradable on the venue now"
        return None


@attrs.frozen
class SpotShort:
    """Spot cannot be sold short: a sell may take the bot's own holding to zero, not below
    (coins the wallet held before, or that someone else bought, are not the bot's to sell)."""

    name: ClassVar[str] = "spot_short"

    def check(self, order: OrderCheck) -> str | None:
        product = order.product
        if product is None or product.is_future or order.intent.side is Side.BUY:
            return None
        if order.resulting >= 0:
            return None
        pending = f" and {order.open_sell} in open sells" if order.open_sell else ""
        return (
            f"{order.describe()} would sell more than the bot holds ({order.position}{pending}):"
            " spot cannot be sold short"
        )


@attrs.frozen
class MustReduce:
    """In REDUCING every order, and in any state an exit, must shrink the position."""

    name: ClassVar[str] = "reduce_only"

    def check(self, order: OrderCheck) -> str | None:
        reducing = order.state is TradingState.REDUCING
        if order.reduces or not (reducing or order.intent.purpose is IntentPurpose.EXIT):
            return None  # before any text is made: an entry in ACTIVE passes here
        what = f"{order.describe()} would not reduce the position of {order.position}"
        if order.open_buy or order.open_sell:
            what += f" (open orders: buy {order.open_buy}, sell {order.open_sell})"
        if reducing:
            return f"trading is REDUCING ({_holding(order)}); {what}"
        return f"exit {what}"


@attrs.frozen
class MarkFreshness:
    max_age_s: float
    name: ClassVar[str] = "mark_staleness"

    def stale(self, age_s: float | None) -> bool:
        return age_s is None or age_s > self.max_age_s

    def check(self, order: OrderCheck) -> str | None:
        if order.mark is None or order.mark_age_s is None:
            return f"no mark for {order.symbol} yet"
        if self.stale(order.mark_age_s):
            return (
                f"mark for {order.symbol} is {order.mark_age_s:.1f}s old, more than"
                f" max_mark_age_s {self.max_age_s:g}"
            )
        return None


@attrs.frozen
class MaxOrderNotional:
    limit: Decimal
    name: ClassVar[str] = "max_order_usd"

    def check(self, order: OrderCheck) -> str | None:
        if not order.reduces and order.order_notional > self.limit:
            return (
                f"order notional {usd(order.order_notional)} USD exceeds max_order_usd"
                f" {num(self.limit)} for {order.symbol}"
            )
        return None


@attrs.frozen
class MaxPositionNotional:
    limit: Decimal
    name: ClassVar[str] = "max_position_usd"

    def check(self, order: OrderCheck) -> str | None:
        if not order.reduces and order.resulting_notional > self.limit:
            return (
                f"notional {usd(order.resulting_notional)} USD exceeds max_position_usd"
                f" {num(self.limit)} for {order.symbol}"
            )
        return None


@attrs.frozen
class MaxExposure:
    limit: Decimal
    name: ClassVar[str] = "max_exposure_usd"

    def check(self, order: OrderCheck) -> str | None:
        if not order.reduces and order.exposure_after > self.limit:
            return (
                f"exposure {usd(order.exposure_after)} USD exceeds max_exposure_usd"
                f" {num(self.limit)} ({order.symbol} {usd(order.resulting_notional)} USD"
                " after this order)"
            )
        return None


@attrs.frozen
class MaxLeverage:
    """Resulting position notional over equity within the symbol's cap; all positions'
    notional over equity within ``max_leverage``; the intent's own leverage within the cap.
    The symbol's cap is the tightest of the configured one, the product's ``max_leverage`` and
    1 / the margin rate that applies now (see :mod:`perpsbot.actors.risk._margin`)."""

    config: RiskConfig
    name: ClassVar[str] = "max_leverage"

    def check(self, order: OrderCheck) -> str | None:
        if order.reduces:
            return None
        equity = order.equity
        if equity is None or equity <= 0:
            return f"equity is unknown or not positive ({equity}); leverage cannot be checked"
        cap, source = margin.leverage_cap(
            self.config.leverage_cap(order.symbol), order.product,
            long=order.intent.side is Side.BUY, now_ns=order.now_ns,
        )  # fmt: skip

        def cap_is() -> str:  # text for a denial only: a passing check formats nothing
            return f"the cap {num(cap)}x for {order.symbol}" + (f" ({source})" if source else "")

        symbol_leverage = order.resulting_notional / equity
        if symbol_leverage > cap:
            return (
                f"leverage {symbol_leverage:.2f}x ({usd(order.resulting_notional)} USD on"
                f" {usd(equity)} USD equity) exceeds {cap_is()}"
            )
        wanted = order.intent.leverage
        if wanted is not None and wanted > cap:
            return f"intent leverage {num(wanted)}x exceeds {cap_is()}"
        total = order.exposure_after / equity
        if total > self.config.max_leverage:
            return (
                f"total leverage {total:.2f}x ({usd(order.exposure_after)} USD on {usd(equity)}"
                f" USD equity) exceeds max_leverage {num(self.config.max_leverage)}x"
            )
        return None


@attrs.frozen
class LiquidationBuffer:
    """Futures: the futures account's buffer share after the order, ``(buffer - k x dIM) /
    (buffer + threshold)``, stays at or above ``min_liquidation_buffer_pct``: ``dIM`` is the
    initial margin the venue's last account read does not hold yet, at the product's rate
    now (what the order adds, what fills booked since that read added, and what other
    symbols' orders in flight may add), ``k`` the venue's maintenance share of initial margin
    (see :mod:`perpsbot.actors.risk._margin`). The whole account's equity and the leverage
    cap do not enter (the cap does for a product without margin rates). On a cross-margined
    account the move of every price at once that spends the buffer (less ``k x dIM``), over
    the whole book's notional after the order, stays at or above
    ``min_liquidation_buffer_pct`` instead: the liquidation price the order leaves, with the
    whole book (every symbol, orders in flight included) moving against itself together, is
    that far from the price."""

    config: RiskConfig
    name: ClassVar[str] = "liquidation_buffer"

    def check(self, order: OrderCheck) -> str | None:
        product, account = order.product, order.futures
        if order.reduces or product is None or not product.is_future:
            return None
        if account is None or account.equity <= 0:
            found = "none yet" if account is None else f"{usd(account.equity)} USD"
            return (
                "the futures account's equity (liquidation buffer plus threshold) must be"
                f" positive to project the liquidation buffer for {order.symbol}, found {found}"
            )
        configured, now_ns = self.config.leverage_cap(order.symbol), order.now_ns
        price = order.price
        before, _ = margin.initial_margin(product, order.position, price, configured, now_ns)
        after, rate = margin.initial_margin(product, order.resulting, price, configured, now_ns)
        read = order.position if order.read_position is None else order.read_position
        held_read = before if read == order.position else (
            margin.initial_margin(product, read, price, configured, now_ns)[0]
        )  # fmt: skip
        unseen = max(after - held_read, _ZERO) + sum(
            (self._unseen_margin(held, now_ns) for held in order.elsewhere), _ZERO
        )
        added = max(after - before, _ZERO)
        minimum = self.config.min_liquidation_buffer_pct
        if account.cross_margin:
            return self._cross(order, account, unseen, added, rate)
        projected = margin.project(account, unseen)
        if projected.share >= minimum:
            return None
        k = "all of it (assumed)" if projected.assumed else f"{projected.k:.2f} of it"
        return (
            f"projected liquidation buffer {projected.share:.4f} is below"
            f" min_liquidation_buffer_pct {num(minimum)} for {order.symbol} (the order adds"
            f" {usd(added)} USD of initial margin at {rate}{_unseen_too(added, unseen)}, the"
            f" liquidation threshold {k}; futures equity {usd(account.equity)} USD)"
        )

    def _cross(
        self, order: OrderCheck, account: FuturesAccount, unseen: Decimal, added: Decimal,
        rate: str,
    ) -> str | None:  # fmt: skip
        """A cross-margined account: the liquidation price the entry leaves, with the whole
        book (every symbol, orders in flight included) moving against itself together, stays
        ``min_liquidation_buffer_pct`` of the price away. The margin the venue's last read
        does not hold (``unseen``, the entry's included) draws on the buffer with the entry."""
        price, book = order.price, order.exposure_after
        found = margin.project_liquidation(
            account, unseen, long=order.resulting > 0, price=price, book_notional=book
        )
        minimum = self.config.min_liquidation_buffer_pct
        if found.distance >= minimum:
            return None
        return (
            f"projected liquidation price {usd(found.price)} is {found.distance:.2%} from the"
            f" price {usd(price)} of {order.symbol}, within min_liquidation_buffer_pct"
            f" {num(minimum)} (cross margin: {usd(found.buffer)} of margin balance over"
            f" maintenance left after the order adds {usd(added)} of initial margin at"
            f" {rate}{_unseen_too(added, unseen)}, against the whole book's {usd(book)} of"
            " notional moving together)"
        )

    def _unseen_margin(self, held: HeldElsewhere, now_ns: int) -> Decimal:
        """The initial margin another futures symbol may hold beyond what the venue's last
        account read holds for it: its position now (fills booked since the read) grown by its
        orders in flight on the worse side, all filled, over its position in that read; none
        if that is less (an exit releases margin)."""
        product = held.product
        if product is None or not product.is_future:
            return _ZERO
        read = held.position if held.read_position is None else held.read_position
        if read == held.position and not (held.open_buy or held.open_sell):
            return _ZERO
        configured = self.config.leverage_cap(held.symbol)

        def initial(contracts: Decimal) -> Decimal:
            return margin.initial_margin(product, contracts, held.price, configured, now_ns)[0]

        worst = initial(held.position)
        for moved in (held.open_buy, -held.open_sell):
            if moved:
                worst = max(worst, initial(held.position + moved))
        return max(worst - initial(read), _ZERO)


def _unseen_too(added: Decimal, unseen: Decimal) -> str:
    """What the venue's figures do not hold beyond the order's own margin, if anything."""
    if unseen == added:
        return ""
    return (
        f" ({usd(unseen)} with what the venue's last account read does not hold: fills booked"
        " since, other symbols' orders in flight)"
    )


@attrs.frozen
class DailyLoss:
    """Realized plus unrealized PnL since the UTC day began must not be a loss past the limit."""

    limit: Decimal
    name: ClassVar[str] = "daily_loss_limit"

    def breached(self, daily_pnl: Decimal) -> bool:
        return -daily_pnl > self.limit

    def check(self, order: OrderCheck) -> str | None:
        if not order.reduces and self.breached(order.daily_pnl):
            return (
                f"daily loss {usd(-order.daily_pnl)} USD exceeds daily_loss_limit_usd"
                f" {num(self.limit)}"
            )
        return None


@attrs.frozen
class OrderRate:
    """At most ``per_minute`` orders in any 60 seconds; one more is denied, never queued."""

    per_minute: int
    name: ClassVar[str] = "max_orders_per_minute"

    def check(self, order: OrderCheck) -> str | None:
        if order.recent_orders >= self.per_minute:
            return (
                f"{order.recent_orders} orders in the last 60s already; max_orders_per_minute"
                f" {self.per_minute}"
            )
        return None


def order_rules(config: RiskConfig) -> tuple[Rule, ...]:
    """Every per-order rule for ``config``, in the order they are checked."""
    return (
        Halted(),
        IntentExpired(),
        KnownProduct(),
        SpotShort(),
        MustReduce(),
        MarkFreshness(config.max_mark_age_s),
        MaxOrderNotional(config.max_order_usd),
        MaxPositionNotional(config.max_position_usd),
        MaxExposure(config.max_exposure_usd),
        MaxLeverage(config),
        LiquidationBuffer(config),
        DailyLoss(config.daily_loss_limit_usd),
        OrderRate(config.max_orders_per_minute),
    )
