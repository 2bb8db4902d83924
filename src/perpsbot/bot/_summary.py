"""How the book reads on the console: a position, the figures of a cycle's summary line, and
the positions a stop leaves open.

Every money figure of the summary line is formatted here, in :func:`book_figures`, from
risk's snapshot of the portfolio's valuation and the futures account's margin.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal

import attrs

from perpsbot.actors.risk import _margin as margin
from perpsbot.config import RiskConfig
from perpsbot.messages import FuturesAccount, PositionView, ProductSpec, RiskSnapshot

__all__ = ["MarginUse", "book_figures", "margin_use", "position_text", "positions_left"]

_ZERO = Decimal(0)

#: Prints a price for a symbol (at the product's increment, once known).
PriceFormat = Callable[[str, Decimal], str]


def _plain(_: str, price: Decimal) -> str:
    return f"{price.normalize():f}"


@attrs.frozen(kw_only=True)
class MarginUse:
    """The initial margin the venue holds against the futures positions at their marks now,
    and the futures account's funds for margin at the last reconciliation (its equity,
    liquidation buffer plus threshold; None until one read it)."""

    initial: Decimal
    funds: Decimal | None

    @property
    def share(self) -> Decimal | None:
        """The initial margin over the funds; None without funds."""
        if self.funds is None or self.funds <= 0:
            return None
        return self.initial / self.funds


def margin_use(
    positions: Iterable[PositionView],
    products: Mapping[str, ProductSpec],
    account: FuturesAccount | None,
    risk: RiskConfig,
    now_ns: int,
) -> MarginUse:
    """The initial margin of every futures position at its mark, at the rate the venue charges
    now (:func:`perpsbot.actors.risk._margin.initial_margin`), against ``account``'s funds."""
    initial = _ZERO
    for view in positions:
        product = products.get(view.symbol)
        if product is None or not product.is_future or view.mark is None or not view.quantity:
            continue
        cap = risk.leverage_cap(view.symbol)
        held, _ = margin.initial_margin(product, view.quantity, view.mark, cap, now_ns)
        initial += held
    return MarginUse(initial=initial, funds=None if account is None else account.equity)


def _funding(snapshot: RiskSnapshot) -> Decimal:
    """Funding accrued on the book's positions (received positive)."""
    return sum((p.funding for p in snapshot.positions), _ZERO)


def book_figures(snapshot: RiskSnapshot, used: MarginUse | None) -> str:
    """``equity 10,000.00 USD  leverage 0.20x  margin 4.1%  realized -6.25  unrealized +1.50
    funding +0.00  today -4.75``: leverage is the positions' notional over equity (as risk's
    ``max_leverage`` takes it), margin the initial margin over the futures account's funds."""
    equity = snapshot.equity
    shown = "-" if equity is None else f"{equity:,.2f}"
    leverage = "-" if equity is None or equity <= 0 else f"{snapshot.exposure / equity:.2f}x"
    share = None if used is None else used.share
    margin_shown = "-" if share is None else f"{share:.1%}"
    return (
        f"equity {shown} USD  leverage {leverage}  margin {margin_shown}"
        f"  realized {signed(snapshot.realized_pnl)}  unrealized {signed(snapshot.unrealized_pnl)}"
        f"  funding {signed(_funding(snapshot))}  today {signed(snapshot.daily_pnl)}"
    )


def position_text(position: PositionView | None, price: PriceFormat = _plain) -> str:
    """``long 0.0145 @ 68900.12  upnl +1.50``, ``short 2 @ 68900  upnl -0.80`` or ``flat``."""
    if position is None or position.quantity == 0:
        return "flat"
    side = "long" if position.quantity > 0 else "short"
    entry = position.average_entry_price
    at = "" if entry is None else f" @ {price(position.symbol, entry)}"
    return (
        f"{side} {abs(position.quantity).normalize():f}{at}  upnl {signed(position.unrealized_pnl)}"
    )


def positions_left(snapshot: RiskSnapshot | None) -> str:
    """What a stop leaves, from risk's snapshot at the stop: each open position with its
    unrealized PnL, and the day's PnL the next start continues from."""
    if snapshot is None:
        return "stopped: no valuation of the book to report"
    held = [p for p in snapshot.positions if p.quantity]
    if not held:
        return f"stopped flat (no open positions); today {signed(snapshot.daily_pnl)}"
    lines = [f"stopped, leaving {len(held)} open position{'s' if len(held) > 1 else ''}:"]
    lines += [f"  {p.symbol:<18} {position_text(p)}" for p in held]
    lines.append(
        f"  unrealized {signed(snapshot.unrealized_pnl)}  today {signed(snapshot.daily_pnl)}"
        " (journaled: the next start continues from it)"
    )
    return "\n".join(lines)


def signed(amount: Decimal) -> str:
    return f"{amount:+,.2f}"
