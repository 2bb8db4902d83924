"""``perpsbot account`` and ``perpsbot order preview`` on the Global Derivatives venue
(``venue.kind = "global"``): read through its gateway, never the exchange's Advanced Trade face.

The account is ``private/get_account_summary`` and ``private/get_positions`` in the settlement
currency (USDC). The venue has no order preview (docs/venues/global-derivatives.md 1.7), so the
preview is the request the bot would send and an estimate made here from the venue's figures:
the instrument, its ticker and the account's available funds; nothing is sent.
"""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal
from typing import Any

import msgspec

from perpsbot.bot._oneshot import global_venue
from perpsbot.config import BotConfig
from perpsbot.control import Table
from perpsbot.errors import InvalidConfigError, SimStateError, VenueError
from perpsbot.messages import OrderType, Side, TimeInForce
from perpsbot.venue.gateway import NewOrder
from perpsbot.venue.global_derivatives import GlobalDerivativesClient
from perpsbot.venue.global_derivatives.records import AccountSummary, Position

__all__ = ["show_account", "show_preview"]

SETTLEMENT = "USDC"
_ZERO = Decimal(0)


def _json(value: dict[str, Any]) -> str:
    return json.dumps(msgspec.to_builtins(value), indent=2)


def buffer_share(summary: AccountSummary) -> Decimal | None:
    """The margin balance above the maintenance margin, as a share of it (1.14)."""
    if summary.margin_balance <= 0:
        return None
    return max(summary.margin_balance - summary.maintenance_margin, _ZERO) / summary.margin_balance


def show_account(args: argparse.Namespace, config: BotConfig, command: str) -> int:
    """``perpsbot account`` on this venue."""
    try:
        with global_venue(config) as (venue, where):
            client = venue.client()
            try:
                summary = client.account_summary(SETTLEMENT)
                held = [p for p in client.positions(SETTLEMENT) if p.direction != "zero"]
            finally:
                client.http.close()
    except (InvalidConfigError, SimStateError, VenueError) as error:
        return _failed(command, error)
    share = buffer_share(summary)
    if args.json:
        print(_json({"venue": where, "account": summary, "positions": held,
                     "liquidation_buffer_share": share}))  # fmt: skip
        return 0
    print(where, end="\n\n")
    print(repr(Table(
        ("account", summary.currency),
        (
            ("balance", summary.balance),
            ("equity", summary.equity),
            ("margin balance", summary.margin_balance),
            ("available funds", summary.available_funds),
            ("initial margin", summary.initial_margin),
            ("maintenance margin", summary.maintenance_margin),
            ("liquidation buffer", "-" if share is None else f"{share:.1%} of margin balance"),
            ("session realized PnL", summary.session_rpl),
            ("session unrealized PnL", summary.session_upl),
        ),
        title=f"account summary ({summary.currency})",
    )))  # fmt: skip
    print()
    if not held:
        print("positions: none")
        return 0
    print(repr(Table(
        ("instrument", "side", "size", "entry", "mark", "initial margin", "maintenance margin",
         "floating PnL", "funding", "est. liquidation"),
        (_position_row(p) for p in held),
        title="positions",
    )))  # fmt: skip
    return 0


def _position_row(p: Position) -> tuple[object, ...]:
    side = "long" if p.direction == "buy" else "short"
    return (
        p.instrument_name, side, abs(p.size), p.average_price, p.mark_price, p.initial_margin,
        p.maintenance_margin, p.floating_profit_loss,
        "-" if p.realized_funding is None else p.realized_funding,
        "-" if p.estimated_liquidation_price is None else p.estimated_liquidation_price,
    )  # fmt: skip


def _failed(command: str, error: Exception) -> int:
    if isinstance(error, VenueError):
        print(f"perpsbot {command}: the venue did not answer: {error}", file=sys.stderr)
        return 1
    print(f"perpsbot {command}: {error}", file=sys.stderr)
    return 2 if isinstance(error, InvalidConfigError) else 1


def show_preview(args: argparse.Namespace, config: BotConfig) -> int:
    """``perpsbot order preview`` on this venue."""
    limit: Decimal | None = args.limit
    order = NewOrder(
        client_order_id="preview",  # not sent
        symbol=args.product,
        side=Side.BUY if args.side == "buy" else Side.SELL,
        size=args.size,
        order_type=OrderType.MARKET if limit is None else OrderType.LIMIT,
        time_in_force=TimeInForce.IOC if limit is None else TimeInForce.GTC,
        limit_price=limit,
        leverage=args.leverage,
    )
    try:
        with global_venue(config) as (venue, where):
            gateway = venue.gateway()
            try:
                spec = gateway.products([order.symbol]).get(order.symbol)
                request = gateway.request_text(order)
            finally:
                gateway.close()
            if spec is None:
                raise InvalidConfigError(
                    f"{order.symbol} must be a linear perpetual the venue lists (like"
                    f" BTC_USDC-PERPETUAL); it is not"
                )
            client = venue.client()
            try:
                figures = _estimate(client, order, spec.contract_size, spec.max_leverage)
            finally:
                client.http.close()
    except (InvalidConfigError, SimStateError, VenueError) as error:
        return _failed("order", error)
    figures = {"request": request, **figures}
    problems = figures["problems"]
    if args.json:
        print(_json({"venue": where, "preview": figures}))
        return 0 if not problems else 1
    print(where, end="\n\n")
    rows = [(name.replace("_", " "), "none" if value in ([], None) else
             ", ".join(value) if isinstance(value, list) else value)
            for name, value in figures.items()]  # fmt: skip
    title = f"{args.side} {args.size} {args.product} (estimated here: the venue has no preview)"
    print(repr(Table(("preview", ""), rows, title=title)))
    return 0 if not problems else 1


def _estimate(
    client: GlobalDerivativesClient,
    order: NewOrder,
    contract_size: Decimal,
    max_leverage: Decimal | None,
) -> dict[str, Any]:
    """What the order would cost: its notional at the price it would fill at (the limit, else
    the far side of the book, else the mark), its initial margin at the leverage asked for
    (else the instrument's ``max_leverage``), against the account's available funds."""
    ticker = client.ticker(order.symbol)
    summary = client.account_summary(SETTLEMENT)
    far = ticker.best_ask_price if order.side is Side.BUY else ticker.best_bid_price
    price = order.limit_price or far or ticker.mark_price
    notional = order.size * contract_size * price
    leverage = order.leverage or max_leverage or Decimal(1)
    margin = notional / leverage
    problems = []
    if max_leverage is not None and leverage > max_leverage:
        problems.append(
            f"leverage {leverage.normalize():f} exceeds the instrument's max_leverage"
            f" {max_leverage.normalize():f}"
        )
    if margin > summary.available_funds:
        problems.append(
            f"the initial margin {margin:.2f} {SETTLEMENT} exceeds the available funds"
            f" {summary.available_funds:.2f} {SETTLEMENT}"
        )
    return {
        "contracts": order.size,
        "base_size": order.size * contract_size,
        "best_bid_ask": f"{ticker.best_bid_price} / {ticker.best_ask_price}",
        "mark_price": ticker.mark_price,
        "expected_fill_price": price,
        "notional": notional.quantize(Decimal("0.01")),
        "leverage": leverage,
        "initial_margin": margin.quantize(Decimal("0.01")),
        "available_funds": summary.available_funds,
        "problems": problems,
    }
