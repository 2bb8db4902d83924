"""The sections for market data and the runtime.

Each section is a unit of restart: when a reload changes any of its values, the supervisor
restarts the children that depend on it.
"""

from __future__ import annotations

import enum
import re
from typing import ClassVar

import attrs

from perpsbot.config._rules import (
    BOOLEAN,
    INTERVAL,
    TIMEOUT,
    Rule,
    integer,
    one_of,
    raise_if_any,
    require,
)

__all__ = ["Channel", "MarketDataConfig", "RuntimeConfig"]

# Spot `BTC-USD`, CFM futures `BIP-20DEC30-CDE`: upper-case parts joined by dashes.
#: Advanced Trade's ``BTC-USD``, ``BIP-20DEC30-CDE``; the Global gateway's ``BTC_USDC-PERPETUAL``.
_PRODUCT_ID = re.compile(r"[A-Z0-9]{1,16}(_[A-Z0-9]{1,16})?(-[A-Z0-9]{1,16}){1,2}")


def _valid_symbols(symbols: tuple[object, ...]) -> bool:
    names = [s for s in symbols if isinstance(s, str) and _PRODUCT_ID.fullmatch(s)]
    return 0 < len(names) == len(symbols) == len(set(names))


_SYMBOLS = Rule(
    "a non-empty list of distinct product ids like 'BTC-USD', 'BIP-20DEC30-CDE' or"
    " 'BTC_USDC-PERPETUAL'",
    tuple,
    _valid_symbols,
)


_WINDOW = integer(1, 10_000)


class Channel(enum.StrEnum):
    """The websocket channel marks are taken from."""

    LEVEL2 = "level2"
    TICKER = "ticker"
    MARKET_TRADES = "market_trades"


@attrs.frozen(kw_only=True)
class MarketDataConfig:
    """Which products to watch and how marks are gathered and sampled.

    ``update_interval_s`` is the sampling cycle that feeds the strategy; ``poll_interval_s`` is
    the REST quote cadence (primary when ``streaming`` is off, fallback while the feed is down);
    a feed silent for ``stale_after_s`` is stale. ``short_ma`` and ``long_ma`` are the moving
    average lengths in samples.
    """

    SECTION: ClassVar[str] = "market_data"

    symbols: tuple[str, ...] = attrs.field(default=("BTC-USD", "ETH-USD"), validator=_SYMBOLS)
    streaming: bool = attrs.field(default=True, validator=BOOLEAN)
    channel: Channel = attrs.field(default=Channel.LEVEL2, validator=one_of(Channel))
    update_interval_s: float = attrs.field(default=5.0, validator=INTERVAL)
    poll_interval_s: float = attrs.field(default=5.0, validator=INTERVAL)
    stale_after_s: float = attrs.field(default=15.0, validator=INTERVAL)
    short_ma: int = attrs.field(default=5, validator=_WINDOW)
    long_ma: int = attrs.field(default=20, validator=_WINDOW)

    def __attrs_post_init__(self) -> None:
        errors: list[str] = []
        require(
            self.short_ma < self.long_ma,
            f"market_data.short_ma must be less than market_data.long_ma ({self.long_ma}),"
            f" was '{self.short_ma}'",
            errors,
        )
        raise_if_any(errors)


@attrs.frozen(kw_only=True)
class RuntimeConfig:
    """Supervision: the watchdog, the restart budget, shutdown and mailbox bounds.

    A supervisor that restarts children more than ``max_restarts`` times within
    ``restart_window_s`` gives up and halts trading. ``restart_buffer_capacity`` bounds what
    an address holds while its actor restarts.
    """

    SECTION: ClassVar[str] = "runtime"

    watchdog_interval_s: float = attrs.field(default=5.0, validator=INTERVAL)
    watchdog_timeout_s: float = attrs.field(default=2.0, validator=TIMEOUT)
    max_restarts: int = attrs.field(default=5, validator=integer(0, 1000))
    restart_window_s: float = attrs.field(default=60.0, validator=TIMEOUT)
    shutdown_timeout_s: float = attrs.field(default=5.0, validator=TIMEOUT)
    restart_buffer_capacity: int = attrs.field(default=1_000, validator=integer(1, 1_000_000))

    def __attrs_post_init__(self) -> None:
        errors: list[str] = []
        require(
            self.watchdog_timeout_s <= self.watchdog_interval_s,
            "runtime.watchdog_timeout_s must be at most runtime.watchdog_interval_s"
            f" ({self.watchdog_interval_s}), was '{self.watchdog_timeout_s}'",
            errors,
        )
        raise_if_any(errors)
