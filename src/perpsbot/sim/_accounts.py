"""Money of the simulated user: spot wallets with holds and the CFM futures account."""

from __future__ import annotations

import hashlib
import uuid
from decimal import Decimal
from typing import Any

import attrs

from perpsbot.sim._products import PERP_EXPIRY, ProductSpec
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
        self, spec: ProductSpec, side: str, price: Decimal, size: Decimal, fee: Decimal
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
class Position:
    contracts: Decimal = _ZERO  # signed: long > 0
    avg_entry: Decimal = _ZERO
    daily_realized: Decimal = _ZERO


class FuturesAccount:
    """USD collateral, net positions in contracts, realized PnL, funding and margin."""

    def __init__(self, cash: Decimal) -> None:
        self.cash = cash
        self.positions: dict[str, Position] = {}
        self.order_holds = _ZERO

    def settle(
        self, spec: ProductSpec, side: str, price: Decimal, size: Decimal, fee: Decimal
    ) -> None:
        pos = self.positions.setdefault(spec.product_id, Position())
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
        elif (pos.contracts > 0) == (signed > 0):  # flipped through zero
            pos.avg_entry = price

    def fund(self, spec: ProductSpec, mark: Decimal, rate: Decimal) -> Decimal:
        """Pay or receive one funding interval; returns the cash change."""
        pos = self.positions.get(spec.product_id)
        if pos is None or pos.contracts == 0:
            return _ZERO
        payment = -(pos.contracts * spec.contract_size * mark * rate).quantize(_CENTS)
        self.cash += payment
        return payment

    def unrealized(self, spec: ProductSpec, mark: Decimal) -> Decimal:
        pos = self.positions.get(spec.product_id)
        if pos is None or pos.contracts == 0:
            return _ZERO
        return (mark - pos.avg_entry) * pos.contracts * spec.contract_size

    def initial_margin(self, specs: dict[str, ProductSpec], marks: dict[str, Decimal]) -> Decimal:
        total = _ZERO
        for pid, pos in self.positions.items():
            rates = specs[pid].intraday_margin
            if pos.contracts == 0 or rates is None:
                continue
            rate = rates.long if pos.contracts > 0 else rates.short
            total += abs(pos.contracts) * specs[pid].contract_size * marks[pid] * rate
        return total

    def available_margin(self, specs: dict[str, ProductSpec], marks: dict[str, Decimal]) -> Decimal:
        upnl = sum((self.unrealized(specs[p], marks[p]) for p in self.positions), _ZERO)
        return self.cash + upnl - self.initial_margin(specs, marks) - self.order_holds

    def position_json(self, spec: ProductSpec, mark: Decimal) -> dict[str, Any]:
        pos = self.positions.get(spec.product_id, Position())
        side = "LONG" if pos.contracts > 0 else "SHORT" if pos.contracts < 0 else "UNKNOWN"
        return {
            "product_id": spec.product_id,
            "expiration_time": PERP_EXPIRY,
            "side": side,
            "number_of_contracts": dec(abs(pos.contracts)),
            "current_price": dec(mark),
            "avg_entry_price": dec(pos.avg_entry),
            "unrealized_pnl": dec(self.unrealized(spec, mark).quantize(_CENTS)),
            "daily_realized_pnl": dec(pos.daily_realized.quantize(_CENTS)),
        }

    def summary(
        self, specs: dict[str, ProductSpec], marks: dict[str, Decimal], spot_usd: Decimal
    ) -> dict[str, Decimal]:
        """The balance-summary numbers, as Decimals keyed by their wire names."""
        upnl = sum((self.unrealized(specs[p], marks[p]) for p in self.positions), _ZERO)
        margin = self.initial_margin(specs, marks)
        available = self.cash + upnl - margin - self.order_holds
        realized = sum((p.daily_realized for p in self.positions.values()), _ZERO)
        maintenance = margin / 2
        return {
            "futures_buying_power": available,
            "total_usd_balance": spot_usd + self.cash,
            "cbi_usd_balance": spot_usd,
            "cfm_usd_balance": self.cash,
            "total_open_orders_hold_amount": self.order_holds,
            "unrealized_pnl": upnl,
            "daily_realized_pnl": realized,
            "initial_margin": margin,
            "available_margin": available,
            "liquidation_threshold": maintenance,
            "liquidation_buffer_amount": self.cash + upnl - maintenance,
        }


def summary_rest_json(numbers: dict[str, Decimal]) -> dict[str, Any]:
    """``GET /cfm/balance_summary``: money as Amount objects."""
    body: dict[str, Any] = {k: amount(v.quantize(_CENTS)) for k, v in numbers.items()}
    body.update(_margin_windows(numbers))
    return {"balance_summary": body}


def summary_ws_json(numbers: dict[str, Decimal]) -> dict[str, Any]:
    """``futures_balance_summary`` channel: money as plain strings."""
    body: dict[str, Any] = {k: dec(v.quantize(_CENTS)) for k, v in numbers.items()}
    body.update(_margin_windows(numbers))
    return body


def _margin_windows(numbers: dict[str, Decimal]) -> dict[str, Any]:
    # The measures carry plain strings in both faces (SDK ``MarginWindowMeasure``).
    def money(value: Decimal) -> str:
        return dec(value.quantize(_CENTS))

    threshold = numbers["liquidation_threshold"]
    buffer_pct = (
        (numbers["liquidation_buffer_amount"] * 100 / threshold).quantize(Decimal(1))
        if threshold > 0
        else Decimal(1000)
    )
    windows: dict[str, Any] = {"liquidation_buffer_percentage": dec(buffer_pct)}
    for key, kind in (("intraday", "INTRADAY"), ("overnight", "OVERNIGHT")):
        windows[f"{key}_margin_window_measure"] = {
            "margin_window_type": f"FCM_MARGIN_WINDOW_TYPE_{kind}",
            "margin_level": "MARGIN_LEVEL_TYPE_BASE",
            "initial_margin": money(numbers["initial_margin"]),
            "maintenance_margin": money(threshold),
            "liquidation_buffer_percentage": dec(buffer_pct),
            "total_hold": money(numbers["total_open_orders_hold_amount"]),
            "futures_buying_power": money(numbers["futures_buying_power"]),
        }
    return windows
