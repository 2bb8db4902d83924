"""The ``sim`` section: the simulated exchange, embedded by ``dev`` or run by ``perpsbot sim``.

This is the exchange's only settings class: :class:`perpsbot.sim.SimExchange` takes it as is.
"""

from __future__ import annotations

import enum
import ipaddress
import os
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, ClassVar

import attrs

from perpsbot.config._rules import (
    BOOLEAN,
    INTERVAL,
    MIN_INTERVAL_S,
    PORT,
    SET_ELSEWHERE,
    Rule,
    amount,
    integer,
    number,
    one_of,
    seconds,
)
from perpsbot.errors import InvalidConfigError

__all__ = ["DuplicateClientOrderId", "FillModel", "SimConfig"]


class FillModel(enum.StrEnum):
    """When a resting order fills: the opposite best price touches or trades through it."""

    TOUCH = "touch"
    THROUGH = "through"


class DuplicateClientOrderId(enum.StrEnum):
    """How the exchange answers an order whose ``client_order_id`` it already holds.

    Coinbase's docs say it returns the existing order; its failure reasons also list
    ``DUPLICATE_CLIENT_ORDER_ID``. The bot must survive either, so the sim offers both.
    """

    RETURN_EXISTING = "return_existing"
    """The existing order's success answer; no new order (what the docs describe)."""
    REJECT = "reject"
    """HTTP 200 ``success: false`` with ``new_order_failure_reason: DUPLICATE_CLIENT_ORDER_ID``."""


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.version == 4 and address.is_loopback


_LOOPBACK = Rule(
    "a loopback address (127.x.x.x or localhost; the simulated exchange trusts whoever reaches it)",
    str,
    _loopback,
)
_PUBLIC_KEYS = Rule(
    "a list of PEM public keys",
    tuple,
    lambda keys: all(isinstance(key, str) for key in keys),
)
_FILL_MODEL = one_of(FillModel)
_DUPLICATE_IDS = one_of(DuplicateClientOrderId)
_DECIMAL = Rule("a number", Decimal)  # converts what a Decimal field receives, checks nothing


def _fill_model(value: object) -> object:
    return _FILL_MODEL.convert(value)


def _duplicate_ids(value: object) -> object:
    return _DUPLICATE_IDS.convert(value)


def _decimal(value: object) -> Any:
    return _DECIMAL.convert(value)


def _pems(keys: Iterable[str]) -> tuple[str, ...]:
    return tuple(keys)


def _balances(value: Any) -> tuple[tuple[str, Decimal], ...]:
    items = value.items() if isinstance(value, dict) else value
    return tuple((str(currency), _decimal(balance)) for currency, balance in items)


def _check_balances(_: Any, __: attrs.Attribute[Any], value: tuple[tuple[str, Any], ...]) -> None:
    for currency, balance in value:
        if not (isinstance(balance, Decimal) and balance.is_finite() and balance >= 0):
            raise InvalidConfigError(
                f"sim.balances[{currency!r}] must be a number >= 0, was '{balance}'"
            )


_IN_CODE = {SET_ELSEWHERE: "set in code (SimConfig(balances=...))"}
_BOT_KEY = {
    SET_ELSEWHERE: "set by the bot for its embedded exchange or by 'perpsbot sim --public-key FILE'"
}


@attrs.frozen(kw_only=True)
class SimConfig:
    """Settings of the simulated exchange (:class:`perpsbot.sim.SimExchange`).

    Attributes:
        host: interface to bind: a loopback address only.
        rest_port: port of the REST server; 0 picks a free one.
        ws_port: port of the websocket server; 0 picks a free one.
        seed: seeds every random choice (prices, book, ids), so one seed gives one run.
        tick_interval_s: seconds between market steps; ``None`` steps only on
            :meth:`SimExchange.step` (fully deterministic tests).
        heartbeat_interval_s: seconds between ``heartbeats`` messages.
        trades_interval_s: seconds between ``market_trades`` batches.
        candles_interval_s: seconds between ``candles`` updates.
        ticker_batch_interval_s: seconds between ``ticker_batch`` messages.
        subscribe_timeout_s: a websocket that sends no subscribe in this time is closed;
            ``None`` turns the rule off.
        verify_auth: check JWTs like Coinbase; ``False`` accepts any or no token.
        public_keys_pem: PEM public keys a JWT may be signed with (ES256 or EdDSA); needed
            when ``verify_auth`` is on. Not a file key: the bot's embedded exchange trusts the
            key the bot generates.
        jwt_leeway_s: clock skew tolerated on ``nbf``/``exp``.
        book_levels: price levels per side of the synthetic book.
        volatility: standard deviation of the log mid per step.
        fill_model: resting orders fill when the opposite best price touches (``touch``) or
            trades through (``through``) their limit price.
        duplicate_client_order_id: the answer to an order whose ``client_order_id`` is
            already used: the existing order (``return_existing``) or a ``success: false``
            rejection naming ``DUPLICATE_CLIENT_ORDER_ID`` (``reject``).
        balances: initial spot balances by currency (set in code only).
        cfm_usd_balance: initial USD collateral of the futures (CFM) account.
        maker_fee_rate / taker_fee_rate: spot fee rates on notional.
        futures_fee_per_contract: futures commission in USD per contract.
        enforce_rate_limits: answer 429 (with ``Retry-After``) when a kind's bucket is empty;
            the ``x-ratelimit-*`` headers are sent either way.
        private_per_s / public_per_s: the server's limits on private and public requests a
            second (Coinbase's 30 and 10), each also the burst a quiet second allows.
        max_frame_bytes: largest websocket frame accepted from a client.
    """

    SECTION: ClassVar[str] = "sim"

    host: str = attrs.field(default="127.0.0.1", validator=_LOOPBACK)
    rest_port: int = attrs.field(default=0, validator=PORT)
    ws_port: int = attrs.field(default=0, validator=PORT)
    seed: int = attrs.field(default=0, validator=integer(0, 2**64 - 1))
    tick_interval_s: float | None = attrs.field(
        default=0.1, validator=seconds(at_least=MIN_INTERVAL_S, optional=True)
    )
    heartbeat_interval_s: float = attrs.field(default=1.0, validator=INTERVAL)
    trades_interval_s: float = attrs.field(default=0.25, validator=INTERVAL)
    candles_interval_s: float = attrs.field(default=1.0, validator=INTERVAL)
    ticker_batch_interval_s: float = attrs.field(default=5.0, validator=INTERVAL)
    subscribe_timeout_s: float | None = attrs.field(default=5.0, validator=seconds(optional=True))
    verify_auth: bool = attrs.field(default=True, validator=BOOLEAN)
    public_keys_pem: tuple[str, ...] = attrs.field(
        default=(), converter=_pems, validator=_PUBLIC_KEYS, metadata=_BOT_KEY
    )
    jwt_leeway_s: float = attrs.field(default=5.0, validator=number(0, 3600))
    book_levels: int = attrs.field(default=10, validator=integer(1, 1000))
    # About 1 % an hour at the default 10 steps a second: sigma * sqrt(36_000).
    volatility: float = attrs.field(default=0.00005, validator=number(0, 1))
    fill_model: FillModel = attrs.field(
        default=FillModel.TOUCH, converter=_fill_model, validator=_FILL_MODEL
    )
    duplicate_client_order_id: DuplicateClientOrderId = attrs.field(
        default=DuplicateClientOrderId.RETURN_EXISTING,
        converter=_duplicate_ids,
        validator=_DUPLICATE_IDS,
    )
    balances: tuple[tuple[str, Decimal], ...] = attrs.field(
        default=(("USD", Decimal(100_000)), ("BTC", Decimal(1)), ("ETH", Decimal(10))),
        converter=_balances,
        validator=_check_balances,
        metadata=_IN_CODE,
    )
    cfm_usd_balance: Decimal = attrs.field(
        default=Decimal(10_000), converter=_decimal, validator=amount(Decimal(10**12), zero=True)
    )
    maker_fee_rate: Decimal = attrs.field(
        default=Decimal("0.004"), converter=_decimal, validator=amount(Decimal(1), zero=True)
    )
    taker_fee_rate: Decimal = attrs.field(
        default=Decimal("0.006"), converter=_decimal, validator=amount(Decimal(1), zero=True)
    )
    futures_fee_per_contract: Decimal = attrs.field(
        default=Decimal("0.15"), converter=_decimal, validator=amount(Decimal(1000), zero=True)
    )
    enforce_rate_limits: bool = attrs.field(default=False, validator=BOOLEAN)
    private_per_s: int = attrs.field(default=30, validator=integer(1, 10_000))
    public_per_s: int = attrs.field(default=10, validator=integer(1, 10_000))
    max_frame_bytes: int = attrs.field(default=10 * 1024 * 1024, validator=integer(1, 2**30))

    def listen_error(self, error: OSError) -> InvalidConfigError:
        """The error to report when the exchange cannot listen on its host and ports."""
        reason = os.strerror(error.errno) if error.errno else str(error)
        return InvalidConfigError(
            f"sim.rest_port and sim.ws_port must be free ports on {self.host} (0 picks a free"
            f" one), were {self.rest_port} and {self.ws_port} ({reason})"
        )
