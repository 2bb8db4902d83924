"""What each profile changes from the section defaults.

``dev`` runs on the embedded simulated exchange with paper money: the perpetual-style futures
it lists, long and short, at leverage 2, with entries of 2,000 USD inside every default risk
limit. It samples every 2 seconds with short moving averages, so the exchange's random walk
produces crosses (and trades) within a minute or two.
``global-dev`` is ``dev`` on the embedded exchange's Global Derivatives gateway
(``BTC_USDC-PERPETUAL`` and ``ETH_USDC-PERPETUAL``, marks polled from its ticker).
``canary`` trades real money on Coinbase with one symbol, no leverage, a 500 USD position cap
and a 10 USD daily loss limit (entries are sized within those caps whatever the account's
size). ``prod`` trades real money with the full limits. Files and the environment override all
of these.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

from perpsbot.config._bot import Profile
from perpsbot.config._venue import VenueKind

__all__ = ["DEV_SYMBOLS", "GLOBAL_DEV_SYMBOLS", "profile_defaults"]

#: What ``dev`` trades: the perpetual-style futures the simulated exchange lists, on BTC and
#: on ETH.
DEV_SYMBOLS = ("BIP-20DEC30-CDE", "ETP-20DEC30-CDE")
#: What ``global-dev`` trades: the same futures as the embedded Global Derivatives gateway
#: names them (USDC-settled linear perpetuals).
GLOBAL_DEV_SYMBOLS = ("BTC_USDC-PERPETUAL", "ETH_USDC-PERPETUAL")

# Entries of 2,000 USD at leverage 2: inside every default risk limit (max_order_usd
# 5,000, max_exposure_usd 5,000 with both symbols held, max_leverage 3, and 1 / the
# sim's overnight short margin rate of about 0.31), long and short.
_DEV_STRATEGY: Mapping[str, object] = {
    "max_trade_usd": Decimal(2_000),
    "leverage": Decimal(2),
    "enable_shorts": True,
    "ma_cross_epsilon_bps": Decimal(2),
}
_DEV_RISK: Mapping[str, object] = {
    "max_position_usd": Decimal(10_000),
    "daily_loss_limit_usd": Decimal(1_000),
}

_DEFAULTS: Mapping[Profile, Mapping[str, Mapping[str, object]]] = {
    Profile.DEV: {
        "venue": {"kind": VenueKind.SIM},
        # Forty seconds of warm-up, then a cross about every minute or two on the random walk.
        "market_data": {
            "symbols": DEV_SYMBOLS,
            "update_interval_s": 2.0,
            "short_ma": 5,
            "long_ma": 20,
        },
        "strategy": _DEV_STRATEGY,
        "risk": _DEV_RISK,
        "journal": {"path": Path("var/dev/journal.sqlite3")},
        "control": {"metrics": True},
    },
    # ``dev`` on the embedded exchange's Global Derivatives face: orders through its gateway,
    # marks polled from its ``public/ticker`` (``streaming`` would take them from its ``book``
    # channels; off here, as the profile was first run).
    Profile.GLOBAL_DEV: {
        "venue": {"kind": VenueKind.GLOBAL},
        "market_data": {
            "symbols": GLOBAL_DEV_SYMBOLS,
            "streaming": False,
            "update_interval_s": 2.0,
            "poll_interval_s": 1.0,
            "short_ma": 5,
            "long_ma": 20,
        },
        "strategy": _DEV_STRATEGY,
        "risk": _DEV_RISK,
        "journal": {"path": Path("var/global-dev/journal.sqlite3")},
    },
    Profile.CANARY: {
        "venue": {"kind": VenueKind.COINBASE},
        "market_data": {"symbols": ("BTC-USD",)},
        "risk": {
            "max_leverage": Decimal(1),
            "daily_loss_limit_usd": Decimal(10),
            "max_position_usd": Decimal(500),
        },
        "journal": {"path": Path("var/canary/journal.sqlite3")},
    },
    Profile.PROD: {
        "venue": {"kind": VenueKind.COINBASE},
        "risk": {"max_position_usd": Decimal(50_000)},
        "journal": {"path": Path("var/prod/journal.sqlite3")},
    },
}


def profile_defaults(profile: Profile) -> dict[str, dict[str, object]]:
    """The section values ``profile`` sets, as a fresh section -> key -> value mapping."""
    return {section: dict(values) for section, values in _DEFAULTS[profile].items()}
