"""The venue's candle sizes and page limit (Coinbase Advanced Trade's ``/candles``; addresses
in ``docs/venues/coinbase-advanced-trade.md`` section 2.4): one table for the simulated
exchange that serves candles and the download that asks for them."""

from __future__ import annotations

__all__ = ["GRANULARITY_S", "PAGE_CANDLES"]

#: Each ``granularity`` and its seconds.
GRANULARITY_S = {
    "ONE_MINUTE": 60,
    "FIVE_MINUTE": 300,
    "FIFTEEN_MINUTE": 900,
    "THIRTY_MINUTE": 1800,
    "ONE_HOUR": 3600,
    "TWO_HOUR": 7200,
    "FOUR_HOUR": 14400,
    "SIX_HOUR": 21600,
    "ONE_DAY": 86400,
}
#: The most candles the venue answers one request with.
PAGE_CANDLES = 350
