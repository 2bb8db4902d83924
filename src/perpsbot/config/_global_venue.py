"""Where a ``venue.kind = "global"`` bot trades: the embedded simulated gateway, a separately
running gateway, or Coinbase's production Global Derivatives gateway.

Decided as for Advanced Trade: no endpoint set means the embedded simulated gateway (paper
money, like ``sim`` without URLs); all three set means the gateway at those endpoints (like
``sim`` with URLs); ``--live`` (profile ``canary`` or ``prod``, with credentials) means the
real venue: no endpoint set takes the production hosts (docs/venues/global-derivatives.md
1.2), as ``coinbase`` takes Coinbase's. The three are always set together or not at all, so a
live bot never mixes production with another gateway (orders in one place, marks or fills
from another), and without ``--live`` no endpoint may be a Coinbase host at all.
"""

from __future__ import annotations

import urllib.parse

import attrs

from perpsbot.config._venue import VenueConfig, VenueKind
from perpsbot.errors import InvalidConfigError

__all__ = ["GLOBAL_PRODUCTION", "GlobalEndpoints", "global_endpoints"]


@attrs.frozen(kw_only=True)
class GlobalEndpoints:
    """The Global Derivatives gateway's three endpoints."""

    http_url: str
    """The HTTP base: methods are posted to ``<http_url>/<method>``."""
    trading_ws_url: str
    """The trading socket (``private/subscribe``, ``user.*``)."""
    streams_ws_url: str
    """The market-data socket (``public/subscribe``, ``book.*``)."""


#: Coinbase's production gateway (docs/venues/global-derivatives.md 1.2): real money.
GLOBAL_PRODUCTION = GlobalEndpoints(
    http_url="https://drb.coinbase.com/api/v2",
    trading_ws_url="wss://drb.coinbase.com/ws/api/v2",
    streams_ws_url="wss://streams.drb.coinbase.com/ws/api/v2",
)
_KEYS = ("global_http_url", "global_trading_ws_url", "global_streams_ws_url")
_ADVANCED_TRADE_KEYS = ("rest_base_url", "market_ws_url", "user_ws_url")


def global_endpoints(venue: VenueConfig, *, live: bool) -> GlobalEndpoints | None:
    """The endpoints a ``global`` venue trades on, or None for the embedded simulated gateway.

    ``live`` is the configuration's ``--live``: with no endpoint set, the production hosts.
    The three endpoints are set together or not at all, and without ``--live`` none may name
    a Coinbase host (real orders need ``--live``, as ``coinbase`` does). Any other kind takes
    no ``venue.global_*`` key, and returns None.

    Raises:
        InvalidConfigError: naming the keys that break these rules and what was found.
    """
    given = {f"venue.{key}": getattr(venue, key) for key in _KEYS}
    found = [key for key, value in given.items() if value is not None]
    if venue.kind is not VenueKind.GLOBAL:
        if found:
            raise InvalidConfigError(
                f"{', '.join(found)} must be unset with venue.kind '{venue.kind}' (the Global"
                " Derivatives gateway's endpoints need venue.kind 'global'), found them set"
            )
        return None
    stray = [f"venue.{key}" for key in _ADVANCED_TRADE_KEYS if getattr(venue, key) is not None]
    if stray:
        raise InvalidConfigError(
            f"{', '.join(stray)} must be unset with venue.kind 'global', which takes its"
            f" endpoints from {', '.join(given)}; found them set"
        )
    if not found:
        return GLOBAL_PRODUCTION if live else None
    if len(found) < len(given):
        missing = [key for key in given if key not in found]
        raise InvalidConfigError(
            f"{', '.join(missing)} must be set too when {', '.join(found)} is (all three or"
            " none: none is the embedded simulated gateway, or with --live Coinbase's"
            " production one); found only " + ", ".join(found)
        )
    endpoints = GlobalEndpoints(
        http_url=str(venue.global_http_url),
        trading_ws_url=str(venue.global_trading_ws_url),
        streams_ws_url=str(venue.global_streams_ws_url),
    )
    if live:
        return endpoints
    real = [
        f"{key} = '{url}'"
        for key, url in zip(given, attrs.astuple(endpoints), strict=True)
        if _is_coinbase(url)
    ]
    if real:
        raise InvalidConfigError(
            "venue.global_* must name a gateway outside coinbase.com without"
            " --live (real orders need profile 'canary' or 'prod' with --live), was "
            + ", ".join(real)
        )
    return endpoints


def _is_coinbase(url: str) -> bool:
    """True for a host of coinbase.com, however written (case, a trailing dot)."""
    host = (urllib.parse.urlsplit(url).hostname or "").rstrip(".").lower()
    return host == "coinbase.com" or host.endswith(".coinbase.com")
