"""Portfolio and fee queries: ``/portfolios``, ``/portfolios/{uuid}``, ``/transaction_summary``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from perpsbot.sim._accounts import PORTFOLIO_ID
from perpsbot.sim._engine import SimEngine
from perpsbot.sim._products import PERP_EXPIRY
from perpsbot.sim._queries import ApiError, Query, bad_argument
from perpsbot.sim._wire import amount, dec, error_body

_ZERO = Decimal(0)
_CENTS = Decimal("0.01")
_PORTFOLIO = {"name": "Default", "uuid": PORTFOLIO_ID, "type": "DEFAULT", "deleted": False}
# The filters of GET /transaction_summary and the products each one keeps.
_PRODUCT_TYPES = ("UNKNOWN_PRODUCT_TYPE", "SPOT", "FUTURE")
_EXPIRY_TYPES = ("UNKNOWN_CONTRACT_EXPIRY_TYPE", "EXPIRING", "PERPETUAL")
_VENUES = ("UNKNOWN_VENUE_TYPE", "CBE", "FCM", "INTX")


def portfolios(engine: SimEngine) -> dict[str, Any]:
    """``GET /portfolios``: the one default portfolio."""
    return {"portfolios": [dict(_PORTFOLIO)]}


def _choice(query: Query, key: str, allowed: tuple[str, ...]) -> str:
    values = query.get(key) or [allowed[0]]
    value = values[0] or allowed[0]
    if value not in allowed:
        raise bad_argument(f"{key} must be one of {', '.join(allowed)}, was {value!r}")
    return value


def transaction_summary(engine: SimEngine, query: Query) -> dict[str, Any]:
    """``GET /transaction_summary``: volume and fees of every fill so far, and the fee tier.

    Coinbase sums a rolling 30 days; the sim sums its whole life. The tier is the sim's
    configured spot rates under the name of Coinbase's entry tier, whatever the volume.
    """
    product_type = _choice(query, "product_type", _PRODUCT_TYPES)
    expiry_type = _choice(query, "contract_expiry_type", _EXPIRY_TYPES)
    venue = _choice(query, "product_venue", _VENUES)

    def counted(product_id: str) -> bool:
        # The sim's futures are all dated (EXPIRING) CFM contracts; its spot products are CBE.
        future = engine.specs[product_id].is_future
        return (
            product_type in ("UNKNOWN_PRODUCT_TYPE", "FUTURE" if future else "SPOT")
            and (not future or expiry_type in ("UNKNOWN_CONTRACT_EXPIRY_TYPE", "EXPIRING"))
            and venue in ("UNKNOWN_VENUE_TYPE", "FCM" if future else "CBE")
        )

    with engine.lock:
        fills = [f for f in engine.fills if counted(f.product_id)]
        volume = sum(
            (f.price * f.size * engine.specs[f.product_id].contract_size for f in fills), _ZERO
        )
        fees = sum((f.commission for f in fills), _ZERO)
        if (horizon := engine.horizon) is not None:  # and those of the fills it forgot
            volume += sum((v for p, v in horizon.forgotten_volume.items() if counted(p)), _ZERO)
            fees += sum((v for p, v in horizon.forgotten_fees.items() if counted(p)), _ZERO)
        balance = _balances(engine)["total_balance"]
        config = engine.config
    return {
        # Coinbase sends these two as JSON numbers, not decimal strings.
        "total_volume": float(volume),
        "total_fees": float(fees),
        "fee_tier": {
            "pricing_tier": "Intro 1",
            "usd_from": "0",
            "usd_to": "1000",
            "taker_fee_rate": dec(config.taker_fee_rate),
            "maker_fee_rate": dec(config.maker_fee_rate),
            "aop_from": "",
            "aop_to": "",
        },
        "margin_rate": None,
        "goods_and_services_tax": None,
        "advanced_trade_only_volume": float(volume),
        "advanced_trade_only_fees": float(fees),
        "coinbase_pro_volume": 0,
        "coinbase_pro_fees": 0,
        "total_balance": dec(balance.quantize(_CENTS)),
        "has_promo_fee": False,
    }


def _balances(engine: SimEngine) -> dict[str, Decimal]:
    """Spot cash, spot crypto at the marks, and the futures account's equity (engine locked)."""
    marks = engine.marks()
    wallet, futures = engine.wallet, engine.futures
    cash = wallet.balances.get("USD", _ZERO)
    crypto = sum(
        (
            size * marks[f"{cur}-USD"]
            for cur, size in wallet.balances.items()
            if cur != "USD" and f"{cur}-USD" in marks
        ),
        _ZERO,
    )
    upnl = sum((futures.unrealized(engine.specs[p], marks[p]) for p in futures.positions), _ZERO)
    return {
        "total_balance": cash + crypto + futures.cash + upnl,
        "total_futures_balance": futures.cash + upnl,
        "total_cash_equivalent_balance": cash,
        "total_crypto_balance": crypto,
        "futures_unrealized_pnl": upnl,
        "perp_unrealized_pnl": _ZERO,
    }


def portfolio_breakdown(engine: SimEngine, portfolio_uuid: str) -> dict[str, Any]:
    """``GET /portfolios/{uuid}``: balances, spot holdings and futures positions."""
    if portfolio_uuid != PORTFOLIO_ID:
        raise ApiError(404, error_body("NOT_FOUND", f"portfolio {portfolio_uuid} not found"))
    with engine.lock:
        marks = engine.marks()
        balances = _balances(engine)
        total = balances["total_balance"]
        spot = []
        for cur, size in sorted(engine.wallet.balances.items()):
            price = Decimal(1) if cur == "USD" else marks.get(f"{cur}-USD", _ZERO)
            fiat = size * price
            spot.append(
                {
                    "asset": cur,
                    "account_uuid": engine.wallet.account_uuid(cur),
                    "total_balance_fiat": float(fiat),
                    "total_balance_crypto": float(size),
                    "available_to_trade_fiat": float(engine.wallet.available(cur) * price),
                    "allocation": float(fiat / total) if total else 0.0,
                    "is_cash": cur == "USD",
                }
            )
        futures = []
        for pid, pos in engine.futures.positions.items():
            if pos.contracts == 0:
                continue
            spec = engine.specs[pid]
            futures.append(
                {
                    "product_id": pid,
                    "contract_size": dec(spec.contract_size),
                    "side": "FUTURES_POSITION_SIDE_LONG"
                    if pos.contracts > 0
                    else "FUTURES_POSITION_SIDE_SHORT",
                    "amount": dec(abs(pos.contracts)),
                    "avg_entry_price": dec(pos.avg_entry),
                    "current_price": dec(marks[pid]),
                    "unrealized_pnl": dec(engine.futures.unrealized(spec, marks[pid])),
                    "expiry": PERP_EXPIRY,
                    "underlying_asset": spec.base_currency,
                    "product_name": spec.display_name,
                    "venue": "FCM",
                    "notional_value": dec(abs(pos.contracts) * spec.contract_size * marks[pid]),
                }
            )
    return {
        "breakdown": {
            "portfolio": dict(_PORTFOLIO),
            "portfolio_balances": {k: amount(v.quantize(_CENTS)) for k, v in balances.items()},
            "spot_positions": spot,
            "perp_positions": [],
            "futures_positions": futures,
        }
    }
