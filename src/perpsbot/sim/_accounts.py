"""Money of the simulated user: spot wallets with holds and the CFM futures account."""

from __future__ import annotations

import hashlib
import uuid
from decimal import Decimal
from typing import Any

import attrs

from perpsbot.sim._products import PERP_EXPIRY, SimProduct
from perpsbot.sim._wire import amount, dec

_ZERO = Decimal(0)
_CENTS = Decimal("0.01")


def stable_uuid(text: str) -> str:
    """A UUID-shaped id derived from ``text``: the same text always gives the same id."""
    return str(uuid.UUID(bytes=hashlib.sha256(text.encode()).digest()[:16], version=4))


# The one simulated user and its default portfolio, UUID-shaped like Coinbase's.
USER_ID = stable_uuid("perpsbot-sim-user")
PORTFOLIO_ID = stable_uuid("perpsbot-sim-portfolio")


class SpotWallet:
    """Balances and holds per currency."""

    def __init__(self, balances: tuple[tuple[str, Decimal], ...], seed: int) -> None:
        self.balances: dict[str, Decimal] = dict(balances)
        self.holds: dict[str, Decimal] = {cur: _ZERO for cur in self.balances}
        self._seed = seed

    def available(self, currency: str) -> Decimal:
        return self.balances.get(currency, _ZERO) - self.holds.get(currency, _ZERO)

    def hold(self, currency: str, delta: Decimal) -> None:
        self.holds[currency] = self.holds.get(currency, _ZERO) + delta

    def settle(
        self, spec: SimProduct, side: str, price: Decimal, size: Decimal, fee: Decimal
    ) -> None:
        quote = price * size
        base, ccy = spec.base_currency, spec.quote_currency
        if side == "BUY":
            self.balances[ccy] = self.balances.get(ccy, _ZERO) - quote - fee
            self.balances[base] = self.balances.get(base, _ZERO) + size
        else:
            self.balances[base] = self.balances.get(base, _ZERO) - size
            self.balances[ccy] = self.balances.get(ccy, _ZERO) + quote - fee

    def account_uuid(self, currency: str) -> str:
        return stable_uuid(f"sim-account-{self._seed}-{currency}")

    def accounts_json(self) -> list[dict[str, Any]]:
        return [
            {
                "uuid": self.account_uuid(cur),
                "name": f"{cur} Wallet",
                "currency": cur,
                "available_balance": amount(self.available(cur), cur),
                "default": True,
                "active": True,
                "created_at": "2024-01-01T00:00:00Z",
                "updated_at": "2024-01-01T00:00:00Z",
                "deleted_at": None,
                "type": "ACCOUNT_TYPE_FIAT" if cur == "USD" else "ACCOUNT_TYPE_CRYPTO",
                "ready": True,
                "hold": amount(self.holds.get(cur, _ZERO), cur),
                "retail_portfolio_id": PORTFOLIO_ID,
                "platform": "ACCOUNT_PLATFORM_CONSUMER",
            }
            for cur in sorted(self.balances)
        ]


@attrs.define(kw_only=True)
class SimPosition:
    contracts: Decimal = _ZERO  # signed: long > 0
    avg_entry: Decimal = _ZERO
    daily_realized: Decimal = _ZERO
    funding: Decimal = _ZERO  # accrued and not yet settled, USD (positive received)


@attrs.frozen(kw_only=True)
class BalanceSummary:
    """The balance summary's money (Decimals keyed by their wire names) at the margin window in
    effect, and each window's own measure (``intraday`` and ``overnight``)."""

    numbers: dict[str, Decimal]
    windows: dict[str, dict[str, Decimal]]


class SimFuturesAccount:
    """USD collateral, net positions in contracts, realized PnL, funding and margin.

    A position's accrued funding is part of its unrealized PnL until a settlement moves it into
    the cash (:meth:`settle_funding`), or the position closes (a fill that flattens it).
    """

    def __init__(self, cash: Decimal) -> None:
        self.cash = cash
        self.positions: dict[str, SimPosition] = {}
        self.order_holds = _ZERO

    def settle(
        self, spec: SimProduct, side: str, price: Decimal, size: Decimal, fee: Decimal
    ) -> None:
        pos = self.positions.setdefault(spec.product_id, SimPosition())
        signed = size if side == "BUY" else -size
        self.cash -= fee
        if pos.contracts == 0 or (pos.contracts > 0) == (signed > 0):
            total = pos.contracts + signed
            pos.avg_entry = (pos.avg_entry * abs(pos.contracts) + price * size) / abs(total)
            pos.contracts = total
            return
        closed = min(abs(signed), abs(pos.contracts))
        direction = Decimal(1) if pos.contracts > 0 else Decimal(-1)
        pnl = (price - pos.avg_entry) * closed * spec.contract_size * direction
        pos.daily_realized += pnl
        self.cash += pnl
        pos.contracts += signed
        if pos.contracts == 0:
            pos.avg_entry = _ZERO
            self.cash += pos.funding  # a closed position's funding is due now
            pos.funding = _ZERO
        elif (pos.contracts > 0) == (signed > 0):  # flipped through zero
            pos.avg_entry = price

    def accrue(self, spec: SimProduct, mark: Decimal, rate: Decimal) -> Decimal:
        """Accrue one funding interval on ``spec``'s position at ``mark``: longs pay while
        ``rate`` is positive. Returns what the position accrued (USD, positive received)."""
        pos = self.positions.get(spec.product_id)
        if pos is None or pos.contracts == 0:
            return _ZERO
        amount = -(pos.contracts * spec.contract_size * mark * rate).quantize(_CENTS)
        pos.funding += amount
        return amount

    def settle_funding(self) -> Decimal:
        """Move every position's accrued funding into the cash; returns the total moved."""
        total = sum((p.funding for p in self.positions.values()), _ZERO)
        self.cash += total
        for pos in self.positions.values():
            pos.funding = _ZERO
        return total

    def unrealized(self, spec: SimProduct, mark: Decimal) -> Decimal:
        """The position's unrealized PnL as the venue shows it: at ``mark``, plus the funding
        accrued and not yet settled."""
        pos = self.positions.get(spec.product_id)
        if pos is None or pos.contracts == 0:
            return _ZERO
        return (mark - pos.avg_entry) * pos.contracts * spec.contract_size + pos.funding

    def initial_margin(
        self, specs: dict[str, SimProduct], marks: dict[str, Decimal], *, intraday: bool
    ) -> Decimal:
        total = _ZERO
        for pid, pos in self.positions.items():
            if pos.contracts == 0 or specs[pid].intraday_margin is None:
                continue
            rate = specs[pid].margin_rate("BUY" if pos.contracts > 0 else "SELL", intraday=intraday)
            total += abs(pos.contracts) * specs[pid].contract_size * marks[pid] * rate
        return total

    def available_margin(
        self, specs: dict[str, SimProduct], marks: dict[str, Decimal], *, intraday: bool
    ) -> Decimal:
        upnl = sum((self.unrealized(specs[p], marks[p]) for p in self.positions), _ZERO)
        margin = self.initial_margin(specs, marks, intraday=intraday)
        return self.cash + upnl - margin - self.order_holds

    def position_json(self, spec: SimProduct, mark: Decimal) -> dict[str, Any]:
        pos = self.positions.get(spec.product_id, SimPosition())
        side = "LONG" if pos.contracts > 0 else "SHORT" if pos.contracts < 0 else "UNKNOWN"
        return {
            "product_id": spec.product_id,
            "expiration_time": PERP_EXPIRY,
            "side": side,
            "number_of_contracts": dec(abs(pos.contracts)),
            "current_price": dec(mark),
            "avg_entry_price": dec(pos.avg_entry),
            # The price's part to the cent, plus the accrued funding (whole cents already).
            "unrealized_pnl": dec(
                (self.unrealized(spec, mark) - pos.funding).quantize(_CENTS) + pos.funding
            ),
            "daily_realized_pnl": dec(pos.daily_realized.quantize(_CENTS)),
        }

    def summary(
        self,
        specs: dict[str, SimProduct],
        marks: dict[str, Decimal],
        spot_usd: Decimal,
        *,
        intraday: bool,
    ) -> BalanceSummary:
        """The balance summary at the margin window in effect (``intraday`` or not)."""
        upnl = sum((self.unrealized(specs[p], marks[p]) for p in self.positions), _ZERO)
        windows = {
            key: self._window(specs, marks, upnl, intraday=key == "intraday")
            for key in ("intraday", "overnight")
        }
        now = windows["intraday" if intraday else "overnight"]
        realized = sum((p.daily_realized for p in self.positions.values()), _ZERO)
        numbers = {
            "futures_buying_power": now["futures_buying_power"],
            "total_usd_balance": spot_usd + self.cash,
            "cbi_usd_balance": spot_usd,
            "cfm_usd_balance": self.cash,
            "total_open_orders_hold_amount": self.order_holds,
            "unrealized_pnl": upnl,
            "daily_realized_pnl": realized,
            "initial_margin": now["initial_margin"],
            "available_margin": now["futures_buying_power"],
            "liquidation_threshold": now["maintenance_margin"],
            "liquidation_buffer_amount": now["liquidation_buffer"],
        }
        return BalanceSummary(numbers=numbers, windows=windows)

    def _window(
        self,
        specs: dict[str, SimProduct],
        marks: dict[str, Decimal],
        upnl: Decimal,
        *,
        intraday: bool,
    ) -> dict[str, Decimal]:
        margin = self.initial_margin(specs, marks, intraday=intraday)
        maintenance = margin / 2
        return {
            "initial_margin": margin,
            "maintenance_margin": maintenance,
            "liquidation_buffer": self.cash + upnl - maintenance,
            "total_hold": self.order_holds,
            "futures_buying_power": self.cash + upnl - margin - self.order_holds,
        }


def summary_rest_json(summary: BalanceSummary) -> dict[str, Any]:
    """``GET /cfm/balance_summary``: money as Amount objects."""
    body: dict[str, Any] = {k: amount(v.quantize(_CENTS)) for k, v in summary.numbers.items()}
    body.update(_margin_windows(summary))
    return {"balance_summary": body}


def summary_ws_json(summary: BalanceSummary) -> dict[str, Any]:
    """``futures_balance_summary`` channel: money as plain strings."""
    body: dict[str, Any] = {k: dec(v.quantize(_CENTS)) for k, v in summary.numbers.items()}
    body.update(_margin_windows(summary))
    return body


def _buffer_pct(buffer: Decimal, threshold: Decimal) -> str:
    """The buffer as a percentage of the maintenance margin (1000 while none is held)."""
    return dec((buffer * 100 / threshold).quantize(Decimal(1)) if threshold > 0 else Decimal(1000))


def _margin_windows(summary: BalanceSummary) -> dict[str, Any]:
    # The measures carry plain strings in both faces (SDK ``MarginWindowMeasure``).
    def money(value: Decimal) -> str:
        return dec(value.quantize(_CENTS))

    numbers = summary.numbers
    windows: dict[str, Any] = {
        "liquidation_buffer_percentage": _buffer_pct(
            numbers["liquidation_buffer_amount"], numbers["liquidation_threshold"]
        )
    }
    for key, measure in summary.windows.items():
        windows[f"{key}_margin_window_measure"] = {
            "margin_window_type": f"FCM_MARGIN_WINDOW_TYPE_{key.upper()}",
            "margin_level": "MARGIN_LEVEL_TYPE_BASE",
            "initial_margin": money(measure["initial_margin"]),
            "maintenance_margin": money(measure["maintenance_margin"]),
            "liquidation_buffer_percentage": _buffer_pct(
                measure["liquidation_buffer"], measure["maintenance_margin"]
            ),
            "total_hold": money(measure["total_hold"]),
            "futures_buying_power": money(measure["futures_buying_power"]),
        }
    return windows
