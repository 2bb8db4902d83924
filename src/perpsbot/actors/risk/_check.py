"""An order intent under risk's check (:class:`OrderCheck`: the intent, priced at the worse of
the latest mark and its limit, with the facts risk holds at that moment), the rule protocol
each check in :mod:`perpsbot.actors.risk._rules` follows, and how a denial reads (amounts in
USD, configured limits as written)."""

from __future__ import annotations

from decimal import Decimal
from functools import cached_property
from typing import ClassVar, Protocol

import attrs

from perpsbot.actors.execution._reduce_only import only_reduces
from perpsbot.messages import OrderIntent, ProductSpec, Side, TradingState
from perpsbot.messages.account import FuturesAccount

_ZERO = Decimal(0)


def usd(amount: Decimal) -> str:
    """``12,400.00``: a computed amount of money."""
    return f"{amount:,.2f}"


def num(value: Decimal) -> str:
    """``10,000`` or ``0.15``: a configured limit, as written."""
    return f"{value.normalize():,f}"


@attrs.frozen(kw_only=True)
class HeldElsewhere:
    """Another symbol's position and what its unsettled orders may still buy and sell, at
    the price risk values it at."""

    symbol: str
    product: ProductSpec | None
    position: Decimal
    """Signed, filled."""
    open_buy: Decimal
    open_sell: Decimal
    price: Decimal
    contract_size: Decimal
    read_position: Decimal | None = None
    """Signed: its position in the venue's last account read, whose margin figures hold it;
    None for the position itself (no fill booked since)."""

    @property
    def notional(self) -> Decimal:
        """The USD notional it may reach at worst (every order on one side filled)."""
        worst = max(abs(self.position + self.open_buy), abs(self.position - self.open_sell))
        return worst * self.contract_size * self.price


@attrs.frozen(kw_only=True)
class OrderCheck:
    """One intent and the facts risk holds when it checks it.

    What the rules derive from them (the price, the resulting position, whether the order
    only reduces it, the notionals) is computed once per check, not once per rule.
    """

    intent: OrderIntent
    mark: Decimal | None
    mark_age_s: float | None
    position: Decimal
    """Signed, filled."""
    open_buy: Decimal = _ZERO
    open_sell: Decimal = _ZERO
    """What unsettled orders for the symbol may still buy and sell (their unbooked rest)."""
    read_position: Decimal | None = None
    """Signed: the symbol's position in the venue's last account read, whose margin figures
    (``futures``) hold it; None for ``position`` itself (no fill booked since)."""
    product: ProductSpec | None
    other_exposure: Decimal = _ZERO
    """USD notional of every other symbol's position at its latest mark, and of what every
    other symbol's unsettled orders may still add (at the price risk checked them at)."""
    elsewhere: tuple[HeldElsewhere, ...] = ()
    """Every other symbol's position and unsettled orders, whose notionals ``other_exposure``
    sums: the margin those orders add draws on a cross-margined account's buffer before the
    venue shows it."""
    equity: Decimal | None = None
    """The whole account's (USD)."""
    futures: FuturesAccount | None = None
    """The futures account's margin, from the last reconciliation."""
    state: TradingState = TradingState.ACTIVE
    reasons: tuple[str, ...] = ()
    daily_pnl: Decimal = _ZERO
    recent_orders: int = 0
    """Orders risk let through within the last 60 seconds."""
    now_ns: int = 0

    @property
    def symbol(self) -> str:
        return self.intent.symbol

    @cached_property
    def price(self) -> Decimal:
        """The worse price for the limits: the higher of the mark and the limit price."""
        candidates = [p for p in (self.mark, self.intent.limit_price) if p is not None]
        return max(candidates) if candidates else self.intent.reference_mark

    @cached_property
    def contract_size(self) -> Decimal:
        return Decimal(1) if self.product is None else self.product.contract_size

    @cached_property
    def resulting(self) -> Decimal:
        """The position if this order and every open order on its side fill (the worst case)."""
        if self.intent.side is Side.BUY:
            return self.position + self.open_buy + self.intent.size
        return self.position - self.open_sell - self.intent.size

    @cached_property
    def reduces(self) -> bool:
        """True if the order only shrinks the position (no growth, no flip through zero),
        counting the unsettled orders on its side (:func:`only_reduces`)."""
        side = self.intent.side
        in_flight = self.open_buy if side is Side.BUY else self.open_sell
        return only_reduces(side, self.intent.size, self.position, in_flight)

    @cached_property
    def order_notional(self) -> Decimal:
        return self.intent.size * self.contract_size * self.price

    @cached_property
    def current_notional(self) -> Decimal:
        return abs(self.position) * self.contract_size * self.price

    @cached_property
    def resulting_notional(self) -> Decimal:
        return abs(self.resulting) * self.contract_size * self.price

    @cached_property
    def exposure_after(self) -> Decimal:
        return self.other_exposure + self.resulting_notional

    def describe(self) -> str:
        intent = self.intent
        return f"{intent.side} {intent.size} {intent.symbol}"


class Rule(Protocol):
    name: ClassVar[str]

    def check(self, order: OrderCheck) -> str | None:
        """The reason ``order`` is denied, or None."""
        ...


@attrs.frozen(kw_only=True)
class Denial:
    rule: str
    reason: str


def first_denial(rules: tuple[Rule, ...], order: OrderCheck) -> Denial | None:
    for rule in rules:
        reason = rule.check(order)
        if reason is not None:
            return Denial(rule=rule.name, reason=reason)
    return None
