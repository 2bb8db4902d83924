"""Funding on futures positions, from the venue's figures (``docs/venues/coinbase-cfm.md``).

Coinbase lists no funding payments for CFM futures. What it shows is each position's funding
accrued and not yet settled, inside its unrealized PnL (read off as
``VenuePosition.accrued_funding``); twice a day it settles what accrued into the futures cash
(:mod:`perpsbot.cfm_calendar`), and a position that closes takes its accrued funding with it.

A position's funding in the book is what the venue accrued on it while the bot read it: each
reading adds what the accrued figure moved by since the last one. After a settlement, or a
close, the last figure was paid and stays counted; the next figure counts from zero. The
first reading after a cold start is only the baseline: the journal's book holds what was
counted before, and funding that accrued while no bot ran is not counted again (nor at all:
the venue's equity holds it).
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from perpsbot.cfm_calendar import settled_between

__all__ = ["FundingReading", "funding_moved"]

_ZERO = Decimal(0)


@attrs.frozen(kw_only=True)
class FundingReading:
    """The venue's accrued funding on one position as last read, and when (Unix ns)."""

    accrued: Decimal
    read_ns: int


def funding_moved(last: FundingReading | None, accrued: Decimal, read_ns: int) -> Decimal:
    """What a position's funding moved by (USD, positive received) when the venue shows
    ``accrued`` at ``read_ns``, after ``last`` (None: no reading yet, this one is the
    baseline)."""
    if last is None:
        return _ZERO
    if settled_between(last.read_ns, read_ns):
        return accrued  # the last figure was settled into the cash: counted already
    return accrued - last.accrued
