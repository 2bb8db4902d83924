"""Funding of perpetual-style futures by the venue's calendar (:mod:`perpsbot.cfm_calendar`).

Every hour on the hour each open position accrues ``-contracts x contract_size x mark x
rate`` (longs pay while the rate is positive), kept on the position until it is settled: the
position's and the balance summary's ``unrealized_pnl`` include it. At each of the two daily
settlements what accrued moves into the futures cash (``cfm_usd_balance``); a settlement comes
before the accrual of its own hour. A position that closes takes its accrued funding into the
cash at once (``SimFuturesAccount.settle``). After each accrual the rate moves: a process around a
small premium, seeded by the sim's seed and the hour, so it needs no RNG state.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

import attrs

from perpsbot.cfm_calendar import FUNDING_INTERVAL_NS, next_funding_ns, next_settlement_ns
from perpsbot.ids import seeded_rng
from perpsbot.sim._accounts import SimFuturesAccount
from perpsbot.sim._config import derived_seed
from perpsbot.sim._products import SimProduct
from perpsbot.sim._wire import quantize_near

__all__ = ["STARTING_RATE", "FundingState"]

STARTING_RATE = Decimal("0.000013")
_RATE_STEP = Decimal("0.000001")


@attrs.define(kw_only=True)
class FundingState:
    """The funding clock of the exchange: each perpetual's rate for the next hour, the next
    funding hour and the next settlement (Unix nanoseconds). Each position's accrued funding
    is on the position itself (``sim._accounts.SimPosition.funding``)."""

    rates: dict[str, Decimal]
    next_funding_ns: int
    next_settlement_ns: int

    @classmethod
    def starting(cls, perpetuals: Iterable[str], now_ns: int) -> FundingState:
        return cls(
            rates=dict.fromkeys(perpetuals, STARTING_RATE),
            next_funding_ns=next_funding_ns(now_ns),
            next_settlement_ns=next_settlement_ns(now_ns),
        )

    def due(self, now_ns: int) -> bool:
        """Whether a settlement or an accrual is due at or before ``now_ns``."""
        return min(self.next_funding_ns, self.next_settlement_ns) <= now_ns

    def catch_up(
        self,
        account: SimFuturesAccount,
        specs: dict[str, SimProduct],
        marks: dict[str, Decimal],
        *,
        now_ns: int,
        seed: int,
    ) -> bool:
        """Run every settlement and accrual due at or before ``now_ns``, in time order (at one
        instant the settlement first); returns True if any ran."""
        ran = False
        while min(self.next_funding_ns, self.next_settlement_ns) <= now_ns:
            ran = True
            if self.next_settlement_ns <= self.next_funding_ns:
                account.settle_funding()
                self.next_settlement_ns = next_settlement_ns(self.next_settlement_ns)
                continue
            hour = self.next_funding_ns
            for pid, rate in self.rates.items():
                account.accrue(specs[pid], marks[pid], rate)
                self.rates[pid] = _next_rate(rate, seed=seed, product_id=pid, hour_ns=hour)
            self.next_funding_ns = hour + FUNDING_INTERVAL_NS
        return ran


def _next_rate(rate: Decimal, *, seed: int, product_id: str, hour_ns: int) -> Decimal:
    rng = seeded_rng(derived_seed(seed, "funding", product_id, hour_ns))
    drift = Decimal(repr(round(rng.gauss(0.0, 0.000004), 9)))
    return quantize_near(rate * Decimal("0.8") + Decimal("0.0000026") + drift, _RATE_STEP)
