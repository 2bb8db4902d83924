"""What each profile changes from the section defaults.

``dev`` runs on the embedded simulated exchange with paper money and generous limits.
``canary`` trades real money on Coinbase with one symbol, no leverage and a $10 daily loss
limit. ``prod`` trades real money with the full limits. Files and the environment override all
of these.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

from perpsbot.config._bot import Profile
from perpsbot.config._venue import VenueKind

__all__ = ["profile_defaults"]

_DEFAULTS: Mapping[Profile, Mapping[str, Mapping[str, object]]] = {
    Profile.DEV: {
        "venue": {"kind": VenueKind.SIM},
        "risk": {"max_position_usd": Decimal(10_000)},
        "journal": {"path": Path("var/dev/journal.sqlite3")},
        "control": {"metrics": True},
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
