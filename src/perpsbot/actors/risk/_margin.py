"""The venue's margin: which rate applies now, the leverage it allows, and how much of the
futures account's liquidation buffer an order uses.

**Windows.** Coinbase Financial Markets charges the intraday margin rate on weekdays from 08:00
to 16:00 US Eastern time and the overnight rate at every other time (the venue's calendar,
:mod:`perpsbot.cfm_calendar`, which the simulated exchange charges by too). The product
catalogue gives both rates but not the window. Nor is the account's intraday margin setting
known: an account not opted in pays the overnight rate all day.

A position opened late in the window is held into the overnight window, where the venue holds
more margin against it: within :data:`OVERNIGHT_LEAD_NS` (an hour) of 16:00 the stricter of
the two rates applies. The bot cannot know how long it will hold an entry (it exits on the next
cross or its trailing stop); an entry opened in the last hour is likely still open at 16:00,
and one the overnight rate would not allow is then at risk of liquidation. Earlier entries are
checked at the intraday rate, as the venue checks them. The switch at 08:00 lowers the rate
and needs no lead.

**The liquidation buffer**, on the futures account alone (the balance summary's figures; spot
USD is in none of them):

- ``E = buffer + threshold``: the funds available for margin, futures cash plus unrealized PnL
  (``liquidation_buffer_amount`` is what they hold above ``liquidation_threshold``);
- the initial margin of a position is ``|contracts| x contract_size x price x rate``, the rate
  for its side in the window that applies (the wire reference, product details);
- the threshold is the maintenance part of the initial margin: ``k = threshold /
  initial_margin`` as the venue reports them, the last share it showed if it holds no margin
  now, and 1 if it never showed one (Coinbase's liquidation buffer is ``(available -
  threshold) / (initial margin - threshold)``, so the threshold is below the initial margin
  and 1 never understates what an order uses);
- the venue's figures hold the positions read with them, not the fills booked since nor the
  orders in flight: ``dIM`` is the initial margin beyond that read, each futures symbol's
  after minus in the read (each side at its own rate), its booked position grown by its
  orders in flight on the worse side (all filled; the order's own symbol with the order),
  none for a symbol where that is less (an exit releases margin). An order leaves ``E`` as it
  is (its fee aside), so the buffer's share of ``E`` after it is ``(buffer - k x dIM) / E``;
- on a cross-margined account (``FuturesAccount.cross_margin``, the Global Derivatives
  gateway) every position draws on the same buffer: the venue estimates each one's
  liquidation price as if it alone moved, but correlated symbols (BTC and ETH) move together
  and drain the buffer all at once. The move, as a share of every price, that takes the
  account to maintenance with every position moving against itself is ``(buffer - k x
  dIM) / N``, ``N`` the whole book's notional after the order (every symbol's
  position grown by its orders in flight, the order's own included): what an entry must keep
  at or above ``min_liquidation_buffer_pct`` there. With one position it is the venue's own
  estimate.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal

import attrs

from perpsbot.cfm_calendar import INTRADAY_CLOSES, eastern, is_intraday
from perpsbot.messages import FuturesAccount, MarginRates, ProductSpec

OVERNIGHT_LEAD_NS = 60 * 60 * 10**9

_ZERO = Decimal(0)
_HUNDREDTH = Decimal("0.01")


class MarginWindow(enum.Enum):
    INTRADAY = "intraday"
    CLOSING = "the hour before the overnight window"
    OVERNIGHT = "overnight"


def margin_window(now_ns: int) -> MarginWindow:
    """The window whose rate an order opened at ``now_ns`` (Unix nanoseconds) is checked at:
    the venue's, but CLOSING within :data:`OVERNIGHT_LEAD_NS` of the intraday window's end."""
    if not is_intraday(now_ns):
        return MarginWindow.OVERNIGHT
    local = eastern(now_ns)
    closes = datetime.combine(local.date(), INTRADAY_CLOSES)
    if closes - local <= timedelta(microseconds=OVERNIGHT_LEAD_NS // 1000):
        return MarginWindow.CLOSING
    return MarginWindow.INTRADAY


def initial_rate(rates: MarginRates, *, long: bool, now_ns: int) -> tuple[Decimal, str]:
    """The initial margin rate for a long (or short) position opened at ``now_ns``, and for
    people which one it is (e.g. ``"the overnight long margin rate 0.245625"``)."""
    window = margin_window(now_ns)
    side = "long" if long else "short"
    intraday, overnight = rates.intraday(long=long), rates.overnight(long=long)
    if window is MarginWindow.INTRADAY:
        return intraday, f"the intraday {side} margin rate {intraday.normalize():f}"
    if window is MarginWindow.OVERNIGHT:
        return overnight, f"the overnight {side} margin rate {overnight.normalize():f}"
    rate, which = (overnight, "overnight") if overnight >= intraday else (intraday, "intraday")
    return rate, (
        f"the {which} {side} margin rate {rate.normalize():f}, the stricter within the hour"
        " before the overnight window"
    )


def leverage_cap(
    configured: Decimal, product: ProductSpec | None, *, long: bool, now_ns: int
) -> tuple[Decimal, str]:
    """The tightest of ``configured``, the product's ``max_leverage`` and 1 / its margin rate
    now for the side (rounded down to 0.01), and for people where it comes from ("" for the
    configured or product cap)."""
    cap, source = configured, ""
    if product is not None and product.max_leverage is not None:
        cap = min(cap, product.max_leverage)
    if product is not None and product.margin_rates is not None:
        rate, which = initial_rate(product.margin_rates, long=long, now_ns=now_ns)
        allowed = (1 / rate).quantize(_HUNDREDTH, rounding=ROUND_FLOOR)
        if allowed < cap:
            cap, source = allowed, f"1 / {which}"
    return cap, source


def initial_margin(
    product: ProductSpec, contracts: Decimal, price: Decimal, configured: Decimal, now_ns: int
) -> tuple[Decimal, str]:
    """The initial margin the venue holds against ``contracts`` (signed) at ``price``, and for
    people the rate: the product's rate now for the side, or without rates 1 / the leverage
    cap (``configured`` or the product's ``max_leverage``, the lower)."""
    notional = abs(contracts) * product.contract_size * price
    if product.margin_rates is None:
        cap, _ = leverage_cap(configured, product, long=contracts >= 0, now_ns=now_ns)
        return notional / cap, f"1 / the leverage cap {cap.normalize():f}x"
    rate, which = initial_rate(product.margin_rates, long=contracts >= 0, now_ns=now_ns)
    return notional * rate, which


@attrs.frozen(kw_only=True)
class Projection:
    """The futures account's buffer share after an order."""

    share: Decimal
    k: Decimal
    """The maintenance share of initial margin used."""
    assumed: bool
    """True if the venue never showed a maintenance share (1 is assumed)."""


@attrs.frozen(kw_only=True)
class LiquidationProjection:
    """Where a position's liquidation price falls after an order, on a cross-margined account,
    when the whole book moves against it together."""

    price: Decimal
    """The estimated liquidation price (0 when the account covers any fall of a long)."""
    distance: Decimal
    """How far it is from the order's price, as a share of that price."""
    buffer: Decimal
    """The account's margin balance over its maintenance margin after the order."""


def project_liquidation(
    account: FuturesAccount,
    added_initial: Decimal,
    *,
    long: bool,
    price: Decimal,
    book_notional: Decimal,
) -> LiquidationProjection:
    """The liquidation price of a long (or short) position at ``price`` when the whole account
    margins it and every position of the book moves against itself by the same share of its
    price: the share that spends the buffer (margin balance over maintenance, less the
    maintenance part of the margin the order adds) over ``book_notional``, the book's
    notional after the order, which must be positive."""
    buffer = account.buffer - project(account, added_initial).k * max(added_initial, _ZERO)
    move = buffer / book_notional
    liquidation = price * (1 - move) if long else price * (1 + move)
    return LiquidationProjection(
        price=max(liquidation, _ZERO), distance=max(move, _ZERO), buffer=buffer
    )


def project(account: FuturesAccount, added_initial: Decimal) -> Projection:
    """The buffer share after an order that adds ``added_initial`` of initial margin; the
    account's equity must be positive."""
    known = account.maintenance_share
    share = Decimal(1) if known is None else known
    added = max(added_initial, _ZERO) * share
    return Projection(
        share=(account.buffer - added) / account.equity,
        k=share,
        assumed=known is None,
    )
