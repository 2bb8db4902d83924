"""``perpsbot account``: balances, the futures balance summary, positions and the fee tier at
the venue.

Reads the configured venue once and prints; changes nothing. With the ``dev`` profile (an
embedded exchange) this is the bot's paper account beside the journal: through the running
bot's exchange, or as the last run left it when no bot runs. Set ``venue.rest_base_url`` and
``venue.market_ws_url`` to read a running ``perpsbot sim`` (or use ``canary``/``prod`` with
``--live`` for Coinbase). With ``venue.kind = "global"`` (``global-dev``) it reads the Global
Derivatives gateway's account summary and positions instead: the paper account's, or those of
the gateway ``venue.global_*`` names (Coinbase's with ``--live``).
"""

from __future__ import annotations

import argparse
import sys

from perpsbot.bot._global_cli import show_account
from perpsbot.bot._oneshot import add_venue_options, as_json, rest_client, venue_config
from perpsbot.config import VenueKind
from perpsbot.control import Table
from perpsbot.errors import InvalidConfigError, SimStateError, VenueError

__all__ = ["configure_parser", "run"]


def configure_parser(parser: argparse.ArgumentParser) -> None:
    add_venue_options(parser)


def run(args: argparse.Namespace) -> int:
    try:
        config = venue_config(args)
    except InvalidConfigError as error:
        print(f"perpsbot account: {error}", file=sys.stderr)
        return 2
    if config.venue.kind is VenueKind.GLOBAL:
        return show_account(args, config, "account")
    try:
        with rest_client(args) as (client, where):
            accounts = [a for a in client.accounts() if a.available or a.hold]
            summary = client.cfm_balance_summary()
            positions = client.cfm_positions()
            fees = client.transaction_summary()
    except InvalidConfigError as error:
        print(f"perpsbot account: {error}", file=sys.stderr)
        return 2
    except SimStateError as error:  # no paper account yet, or one that cannot be read
        print(f"perpsbot account: {error}", file=sys.stderr)
        return 1
    except VenueError as error:
        print(f"perpsbot account: the venue did not answer: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(as_json({"venue": where, "accounts": accounts, "futures": summary,
                       "positions": positions, "fees": fees}))  # fmt: skip
        return 0
    print(where, end="\n\n")
    balances = ((a.currency, a.available, a.hold) for a in accounts)
    print(repr(Table(("currency", "available", "hold"), balances, title="balances")))
    print()
    print(repr(Table(
        ("futures", "usd"),
        (
            ("total USD balance", summary.total_usd_balance),
            ("buying power", summary.futures_buying_power),
            ("unrealized PnL", summary.unrealized_pnl),
            ("realized PnL today", summary.daily_realized_pnl),
            ("initial margin", summary.initial_margin),
            ("available margin", summary.available_margin),
        ),
        title="futures balance summary",
    )))  # fmt: skip
    tier = fees.fee_tier
    print(
        f"\nfee tier {tier.pricing_tier}: maker {tier.maker_fee_rate:%}, taker"
        f" {tier.taker_fee_rate:%} (30-day volume {fees.total_volume} USD, fees"
        f" {fees.total_fees} USD)\n"
    )
    if not positions:
        print("positions: none")
        return 0
    print(repr(Table(
        ("product", "side", "contracts", "entry", "price", "unrealized PnL"),
        (
            (p.product_id, p.side, p.number_of_contracts, p.avg_entry_price, p.current_price,
             p.unrealized_pnl)
            for p in positions
        ),
        title="positions",
    )))  # fmt: skip
    return 0
