"""Venue facts the executor publishes: tradable products, reconciliation and account state.

The executor is the only actor that talks to the venue about orders and accounts. What it
learns that others need (product increments for sizing, the venue's positions, equity,
margin and accrued funding for the portfolio and risk) travels as these events.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from perpsbot.messages._base import positive_decimal
from perpsbot.messages.orders import OrderFilled

__all__ = [
    "AccountReconciled",
    "FuturesAccount",
    "MarginRates",
    "ProductSpec",
    "ProductsLoaded",
    "Reconcile",
    "ReconciliationCompleted",
    "ReconciliationStarted",
    "RefreshProducts",
    "VenuePosition",
]


@attrs.frozen(kw_only=True)
class MarginRates:
    """A futures product's initial margin, as a share of notional, from the venue's catalogue
    (``intraday_margin_rate`` and ``overnight_margin_rate``): for a long and for a short, in
    the venue's intraday window and outside it. Leverage is at most 1 / the rate."""

    intraday_long: Decimal = attrs.field(validator=positive_decimal)
    intraday_short: Decimal = attrs.field(validator=positive_decimal)
    overnight_long: Decimal = attrs.field(validator=positive_decimal)
    overnight_short: Decimal = attrs.field(validator=positive_decimal)

    def intraday(self, *, long: bool) -> Decimal:
        return self.intraday_long if long else self.intraday_short

    def overnight(self, *, long: bool) -> Decimal:
        return self.overnight_long if long else self.overnight_short


@attrs.frozen(kw_only=True)
class ProductSpec:
    """What orders for one product must respect (from the venue's product catalogue).

    Sizes are base units for spot and contracts for futures; ``contract_size`` is the base
    units of one contract (1 for spot). ``min_notional`` is the venue's ``quote_min_size``.
    """

    symbol: str
    is_future: bool
    contract_size: Decimal = attrs.field(validator=positive_decimal)
    base_increment: Decimal = attrs.field(validator=positive_decimal)
    price_increment: Decimal = attrs.field(validator=positive_decimal)
    base_min_size: Decimal
    min_notional: Decimal | None
    max_leverage: Decimal | None
    tradable: bool = True
    """False while trading is disabled or the product is cancel-only."""
    base_max_size: Decimal | None = None
    margin_rates: MarginRates | None = None
    """Futures whose catalogue entry gives all four rates; None otherwise."""


@attrs.frozen(kw_only=True)
class ProductsLoaded:
    """The product catalogue for the configured symbols was (re)loaded."""

    message_id: str
    ts_created_ns: int
    products: tuple[ProductSpec, ...]

    def get(self, symbol: str) -> ProductSpec | None:
        for product in self.products:
            if product.symbol == symbol:
                return product
        return None


@attrs.frozen(kw_only=True)
class VenuePosition:
    """A position as the venue reports it (futures from CFM positions; spot from balances).

    ``quantity`` is signed (negative for a short).
    """

    symbol: str
    quantity: Decimal
    average_entry_price: Decimal | None
    contract_size: Decimal
    unrealized_pnl: Decimal | None = None
    accrued_funding: Decimal | None = None
    """The funding the venue accrued on the position and has not settled yet (USD, positive
    received): what its unrealized PnL holds beyond the price's move, ``unrealized_pnl -
    (current_price - avg_entry_price) x quantity x contract_size`` to the cent (see
    ``docs/venues/coinbase-cfm.md``); None for a flat or spot position."""


@attrs.frozen(kw_only=True)
class ReconciliationStarted:
    """The executor is reconciling with the venue; trading stays REDUCING until it completes."""

    message_id: str
    ts_created_ns: int
    reason: str


@attrs.frozen(kw_only=True)
class ReconciliationCompleted:
    """A reconciliation pass ended. ``success`` False keeps trading REDUCING (``error`` says
    why); ``corrections`` lists, for people, what was corrected to the venue's truth."""

    message_id: str
    ts_created_ns: int
    success: bool
    startup: bool
    corrections: tuple[str, ...] = ()
    error: str = ""


@attrs.frozen(kw_only=True)
class FuturesAccount:
    """The futures account as the venue's futures balance summary reports it (USD).

    ``buffer + threshold`` is the futures account's own equity, the funds available for
    margin (futures cash plus unrealized PnL; spot USD is not in it): ``threshold`` is what
    the account must keep to avoid liquidation (the maintenance margin), ``buffer`` what it
    holds above that.
    """

    buffer: Decimal
    """``liquidation_buffer_amount``."""
    threshold: Decimal
    """``liquidation_threshold``."""
    maintenance_share: Decimal | None = None
    """The threshold as a share of the initial margin (``liquidation_threshold /
    initial_margin``), seen while the account held margin; None until then."""
    cross_margin: bool = False
    """True when the venue margins every position against the whole account and estimates a
    position's liquidation price from it (the Global Derivatives gateway's ``cross_*`` margin
    models): risk then checks how far from the price an entry leaves its liquidation price."""

    @property
    def equity(self) -> Decimal:
        return self.buffer + self.threshold

    @property
    def buffer_share(self) -> Decimal | None:
        """The share of the equity above the threshold, from 0 to 1; None without equity."""
        equity = self.equity
        if equity <= 0:
            return None
        return max(self.buffer, Decimal(0)) / equity

    def following(self, previous: FuturesAccount | None) -> FuturesAccount:
        """This reading, keeping ``previous``'s maintenance share if this one shows none (the
        account holds no margin now)."""
        if self.maintenance_share is not None or previous is None:
            return self
        return attrs.evolve(self, maintenance_share=previous.maintenance_share)


@attrs.frozen(kw_only=True)
class AccountReconciled:
    """The venue's view of the account at one reconciliation: equity, positions and margin;
    the portfolio corrects its book from it (see :attr:`unsettled`).

    ``equity`` is USD: the futures balance summary's total for futures, cash plus holdings at
    the mark for spot. ``liquidation_buffer_pct`` is the share (0 to 1) of the futures
    account's equity above its liquidation threshold, from the futures balance summary.
    """

    message_id: str
    ts_created_ns: int
    equity: Decimal | None
    positions: tuple[VenuePosition, ...]
    """Futures positions as the venue holds them."""
    liquidation_buffer_pct: Decimal | None = None
    startup: bool = False
    spot_wallets: tuple[VenuePosition, ...] = ()
    """Each spot symbol's base currency in the wallet (the owner's coins included): a bound
    on the bot's spot position, never the position itself."""
    unsettled: frozenset[str] = frozenset()
    """Symbols this read may not correct: an order of theirs was in flight, sent, or had
    fills not yet read while the venue was read, so the read may be older than the book."""
    futures: FuturesAccount | None = None
    """The futures account's margin figures; None without futures symbols (not journaled)."""
    fills: tuple[OrderFilled, ...] = ()
    """The sweep: fills of ours the venue listed, read before its positions, of orders the
    executor does not hold unfinished (an order it holds has its fills published on their own
    path). The portfolio books each one it has not booked before its corrections, and tells
    the journal those it booked (journaled as the fills table's own, not as the account's)."""


@attrs.frozen(kw_only=True)
class RefreshProducts:
    """The executor's own timer: reload the product catalogue."""


@attrs.frozen(kw_only=True)
class Reconcile:
    """The executor's own timer: reconcile in-flight orders and positions with the venue (or
    retry a failed startup reconciliation)."""
