"""``perpsbot order preview``: what an order would cost at the venue; nothing is placed.

``perpsbot order preview BTC-USD buy --size 0.01`` previews a market order;
``--limit PRICE`` makes it a good-till-cancelled limit order. The venue answers with the
total, the commission, the expected fill price and any ``PREVIEW_*`` problem. On the Global
Derivatives venue (``venue.kind = "global"``), which has no preview, it shows the request the
bot would send and the notional and initial margin estimated from the venue's figures.
"""

from __future__ import annotations

import argparse
import sys
from decimal import Decimal, InvalidOperation

from perpsbot.bot._global_cli import show_preview
from perpsbot.bot._oneshot import add_venue_options, as_json, rest_client, venue_config
from perpsbot.config import VenueKind
from perpsbot.control import Table
from perpsbot.errors import InvalidConfigError, SimStateError, VenueError
from perpsbot.venue.orders import LimitGtc, MarketIoc, OrderRequest, OrderSide

__all__ = ["configure_parser", "run"]


def _decimal(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"must be a number, was {text!r}") from None
    if not value.is_finite() or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, was {text!r}")
    return value


def _product(text: str) -> str:
    if not text.strip() or text != text.strip():
        raise argparse.ArgumentTypeError(f"must be a product id like BTC-USD, was {text!r}")
    return text


def configure_parser(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="order_action", required=True, metavar="ACTION")
    preview = actions.add_parser(
        "preview", help="preview an order (nothing is placed)", description=__doc__
    )
    preview.add_argument(
        "product", type=_product, help="product id, like BTC-USD or BIP-20DEC30-CDE"
    )
    preview.add_argument("side", choices=["buy", "sell"])
    preview.add_argument("--size", type=_decimal, required=True, help="base size (contracts)")
    preview.add_argument("--limit", type=_decimal, metavar="PRICE", help="limit price (GTC)")
    preview.add_argument("--leverage", type=_decimal, help="leverage (futures)")
    add_venue_options(preview)


def run(args: argparse.Namespace) -> int:
    try:
        config = venue_config(args)
    except InvalidConfigError as error:
        print(f"perpsbot order: {error}", file=sys.stderr)
        return 2
    if config.venue.kind is VenueKind.GLOBAL:
        return show_preview(args, config)
    configuration = (
        MarketIoc(base_size=args.size)
        if args.limit is None
        else LimitGtc(base_size=args.size, limit_price=args.limit)
    )
    request = OrderRequest(
        client_order_id="preview",  # not sent: a preview has no client order id
        product_id=args.product,
        side=OrderSide.BUY if args.side == "buy" else OrderSide.SELL,
        configuration=configuration,
        leverage=args.leverage,
    )
    try:
        with rest_client(args) as (client, where):
            preview = client.preview_order(request)
    except InvalidConfigError as error:
        print(f"perpsbot order: {error}", file=sys.stderr)
        return 2
    except SimStateError as error:  # no paper account yet, or one that cannot be read
        print(f"perpsbot order: {error}", file=sys.stderr)
        return 1
    except VenueError as error:
        print(f"perpsbot order: the venue refused the preview: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(as_json({"venue": where, "preview": preview}))
        return 0 if not preview.errs else 1
    print(where, end="\n\n")
    rows = [
        ("order total", preview.order_total),
        ("commission", preview.commission_total),
        ("base size", preview.base_size),
        ("quote size", preview.quote_size),
        ("best bid / ask", f"{preview.best_bid} / {preview.best_ask}"),
        ("expected fill price", preview.est_average_filled_price),
        ("leverage", preview.leverage),
        ("margin", preview.order_margin_total),
        ("problems", ", ".join(preview.errs) or "none"),
        ("warnings", ", ".join(preview.warnings) or "none"),
    ]
    print(repr(Table(("preview", ""), rows, title=f"{args.side} {args.size} {args.product}")))
    return 0 if not preview.errs else 1
