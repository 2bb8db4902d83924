"""The simulated exchange's settings: one frozen value, validated at construction."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Literal

import attrs

from perpsbot.errors import InvalidConfigError

FillModel = Literal["touch", "through"]


def _non_negative(_inst: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and not (isinstance(value, (int, float, Decimal)) and value >= 0):
        raise InvalidConfigError(f"sim.{attribute.name} must be >= 0, was {value!r}")


def _positive(_inst: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and not (isinstance(value, (int, float, Decimal)) and value > 0):
        raise InvalidConfigError(f"sim.{attribute.name} must be > 0, was {value!r}")


def _port(_inst: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, int) or not 0 <= value <= 65535:
        raise InvalidConfigError(f"sim.{attribute.name} must be a port in 0..65535, was {value!r}")


def _fill_model(_inst: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value not in ("touch", "through"):
        raise InvalidConfigError(
            f"sim.{attribute.name} must be 'touch' or 'through', was {value!r}"
        )


def _balances(value: Any) -> tuple[tuple[str, Decimal], ...]:
    items = value.items() if isinstance(value, dict) else value
    return tuple((str(k), Decimal(str(v))) for k, v in items)


def derived_seed(seed: int, *labels: object) -> int:
    """A seed for one of the sim's RNGs, derived from the configured ``seed`` and a label.

    Each concern (prices, ids, history) has its own stream, so drawing more ids never moves
    a price; all of them depend on ``seed`` alone.
    """
    text = "/".join([str(seed), *map(str, labels)])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def _pems(keys: Iterable[str]) -> tuple[str, ...]:
    return tuple(keys)


@attrs.frozen(kw_only=True)
class SimConfig:
    """Settings of a :class:`SimExchange`.

    Attributes:
        host: interface to bind; loopback by default.
        rest_port: port of the REST server; 0 picks a free one.
        ws_port: port of the websocket server; 0 picks a free one.
        seed: seeds every random choice of the sim (prices, book, ids), so one seed gives one run.
        tick_interval_s: real seconds between market steps; ``None`` steps only on
            :meth:`SimExchange.step` (fully deterministic tests).
        heartbeat_interval_s: real seconds between ``heartbeats`` messages.
        trades_interval_s: real seconds between ``market_trades`` batches.
        candles_interval_s: real seconds between ``candles`` updates.
        ticker_batch_interval_s: real seconds between ``ticker_batch`` messages.
        subscribe_timeout_s: a websocket that sends no subscribe in this time is closed;
            ``None`` turns the rule off.
        verify_auth: check JWTs; ``False`` accepts any or no token (lenient mode).
        public_keys_pem: PEM public keys a JWT may be signed with (ES256 or EdDSA).
        jwt_leeway_s: clock skew tolerated on ``nbf``/``exp``.
        book_levels: price levels per side of the synthetic book.
        volatility: standard deviation of the log mid per step.
        fill_model: resting orders fill when the opposite best price touches (``touch``) or
            trades through (``through``) their limit price.
        balances: initial spot balances by currency.
        cfm_usd_balance: initial USD collateral of the futures (CFM) account.
        maker_fee_rate / taker_fee_rate: spot fee rates on notional.
        futures_fee_per_contract: futures commission in USD per contract.
        enforce_rate_limits: answer 429 when the token bucket (30 rps private, 10 rps public)
            is empty; the ``x-ratelimit-*`` headers are sent either way.
        max_frame_bytes: largest websocket frame accepted from a client.
    """

    host: str = "127.0.0.1"
    rest_port: int = attrs.field(default=0, validator=_port)
    ws_port: int = attrs.field(default=0, validator=_port)
    seed: int = 0
    tick_interval_s: float | None = attrs.field(default=0.1, validator=_positive)
    heartbeat_interval_s: float = attrs.field(default=1.0, validator=_positive)
    trades_interval_s: float = attrs.field(default=0.25, validator=_positive)
    candles_interval_s: float = attrs.field(default=1.0, validator=_positive)
    ticker_batch_interval_s: float = attrs.field(default=5.0, validator=_positive)
    subscribe_timeout_s: float | None = attrs.field(default=5.0, validator=_positive)
    verify_auth: bool = True
    public_keys_pem: tuple[str, ...] = attrs.field(default=(), converter=_pems)
    jwt_leeway_s: float = attrs.field(default=5.0, validator=_non_negative)
    book_levels: int = attrs.field(default=10, validator=_positive)
    # About 1 % an hour at the default 10 steps a second: sigma * sqrt(36_000).
    volatility: float = attrs.field(default=0.00005, validator=_non_negative)
    fill_model: FillModel = attrs.field(default="touch", validator=_fill_model)
    balances: tuple[tuple[str, Decimal], ...] = attrs.field(
        default=(("USD", Decimal(100_000)), ("BTC", Decimal(1)), ("ETH", Decimal(10))),
        converter=_balances,
    )
    cfm_usd_balance: Decimal = attrs.field(default=Decimal(10_000), converter=Decimal)
    maker_fee_rate: Decimal = attrs.field(default=Decimal("0.004"), converter=Decimal)
    taker_fee_rate: Decimal = attrs.field(default=Decimal("0.006"), converter=Decimal)
    futures_fee_per_contract: Decimal = attrs.field(default=Decimal("0.15"), converter=Decimal)
    enforce_rate_limits: bool = False
    max_frame_bytes: int = attrs.field(default=10 * 1024 * 1024, validator=_positive)

    def __attrs_post_init__(self) -> None:
        if self.verify_auth and not self.public_keys_pem:
            raise InvalidConfigError(
                "sim.public_keys_pem must hold at least one PEM key when sim.verify_auth is true,"
                " was empty (set verify_auth=False for lenient local runs)"
            )
