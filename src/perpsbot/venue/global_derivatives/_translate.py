"""The Global Derivatives gateway's records in the bot's terms (docs/venues/global-derivatives.md
1.5, 1.7, 2.3): instruments as ``ProductSpec``, orders as ``VenueOrder``, user trades as
``VenueFill``, positions and the account summary as the venue account. Sizes become contracts,
lowercase states the gateway's status words, ``M``/``T`` ``MAKER``/``TAKER``."""

from __future__ import annotations

import logging
from decimal import Decimal

from perpsbot.errors import VenueResponseError
from perpsbot.messages import FuturesAccount, ProductSpec, Side, VenuePosition
from perpsbot.venue.gateway import VenueFill, VenueOrder
from perpsbot.venue.global_derivatives.records import (
    AccountSummary,
    Instrument,
    Order,
    Position,
    UserTrade,
)

_log = logging.getLogger("perpsbot.venue.global")

#: The venue's order states as the gateway's status words (1.7); others pass through.
_STATUS = {
    "open": "OPEN",
    "untriggered": "PENDING",
    "triggered": "PENDING",
    "filled": "FILLED",
    "cancelled": "CANCELLED",
    "rejected": "FAILED",
}
_LIQUIDITY = {"M": "MAKER", "T": "TAKER"}
_SIDES = {"buy": Side.BUY, "sell": Side.SELL}


def product_spec(instrument: Instrument) -> ProductSpec | None:
    """The spec of a linear perpetual; None (with the reason logged) for an instrument the bot
    does not model: inverse (``reversed``), or with a price-dependent tick (1.5)."""
    name = instrument.instrument_name
    if instrument.instrument_type != "linear":
        _log.warning(
            "%s left out: a %r instrument is not modelled", name, instrument.instrument_type
        )
        return None
    if instrument.tick_size_steps:
        _log.warning("%s left out: its tick depends on the price (tick_size_steps)", name)
        return None
    step = instrument.min_trade_amount / instrument.contract_size
    return ProductSpec(
        symbol=name,
        is_future=True,
        contract_size=instrument.contract_size,
        base_increment=step,
        price_increment=instrument.tick_size,
        base_min_size=step,
        min_notional=None,
        max_leverage=None if instrument.max_leverage is None else Decimal(instrument.max_leverage),
        tradable=instrument.is_active,
    )


def side_of(direction: str, what: str) -> Side:
    side = _SIDES.get(direction)
    if side is None:
        raise VenueResponseError(
            f"{what}: direction must be 'buy' or 'sell', was {direction!r}", status=None, body=""
        )
    return side


def contracts(given: Decimal | None, amount: Decimal, contract_size: Decimal, what: str) -> Decimal:
    """A size in contracts: ``contracts`` when the venue gave it, else ``amount`` (base units
    for a linear instrument) over the contract size; the two must agree (1.5)."""
    from_amount = amount / contract_size
    if given is None:
        return from_amount
    if given != from_amount:
        raise VenueResponseError(
            f"{what}: contracts {given} and amount {amount} disagree at contract size"
            f" {contract_size}",
            status=None,
            body="",
        )
    return given


def venue_order(order: Order, contract_size: Decimal) -> VenueOrder:
    what = f"order {order.order_id}"
    size = contracts(order.contracts, order.amount, contract_size, what)
    filled = order.filled_amount / contract_size
    return VenueOrder(
        venue_order_id=order.order_id,
        client_order_id=order.label,
        symbol=order.instrument_name,
        side=side_of(order.direction, what),
        status=_STATUS.get(order.order_state, order.order_state),
        size=size,
        limit_price=None if order.original_order_type == "market" else order.price,
        filled_size=filled,
        average_price=order.average_price if filled > 0 and order.average_price else None,
    )


def venue_fill(trade: UserTrade, contract_size: Decimal) -> VenueFill:
    what = f"trade {trade.trade_id}"
    return VenueFill(
        fill_id=trade.trade_id,
        venue_order_id=trade.order_id,
        side=side_of(trade.direction, what),
        price=trade.price,
        size=contracts(trade.contracts, trade.amount, contract_size, what),
        fee=trade.fee,
        liquidity=_LIQUIDITY.get(trade.liquidity, trade.liquidity),
        ts_ns=trade.timestamp * 1_000_000,
    )


def venue_position(symbol: str, held: Position | None, contract_size: Decimal) -> VenuePosition:
    """A position in contracts, signed by its direction; flat when the venue lists none. Its
    ``accrued_funding`` is the venue's ``realized_funding``: the session's funding, not yet
    moved into the balance (1.13), which the portfolio books as it moves."""
    if held is None or held.direction == "zero" or held.size == 0:
        return VenuePosition(
            symbol=symbol, quantity=Decimal(0), average_entry_price=None,
            contract_size=contract_size,
        )  # fmt: skip
    quantity = abs(held.size) / contract_size
    if side_of(held.direction, f"position {symbol}") is Side.SELL:
        quantity = -quantity
    return VenuePosition(
        symbol=symbol,
        quantity=quantity,
        average_entry_price=held.average_price,
        contract_size=contract_size,
        unrealized_pnl=held.floating_profit_loss,
        accrued_funding=held.realized_funding,
    )


def futures_account(summary: AccountSummary) -> FuturesAccount:
    """The margin balance over maintenance is the buffer; maintenance the threshold (2.3); a
    ``cross_*`` margin model margins every position against the whole account (1.14)."""
    maintenance = summary.maintenance_margin
    return FuturesAccount(
        buffer=summary.margin_balance - maintenance,
        threshold=maintenance,
        maintenance_share=(
            maintenance / summary.initial_margin if summary.initial_margin > 0 else None
        ),
        cross_margin=summary.margin_model.startswith("cross"),
    )
