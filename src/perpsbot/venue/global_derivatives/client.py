"""The Global Derivatives gateway's methods, typed: what perpsbot asks of the venue.

Calls go over the trading socket while it is ready (the venue's recommended path) and over
HTTP otherwise; a read that fails on the socket is asked again over HTTP. An order goes out
once, on one path: a doubt is :class:`~perpsbot.errors.OrderOutcomeUnknownError` and the caller
looks it up by label (:mod:`.lookup`) before anything is sent again.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, TypeVar

from perpsbot.errors import VenueTransportError
from perpsbot.venue.global_derivatives._codec import typed
from perpsbot.venue.global_derivatives._http import RpcHttp
from perpsbot.venue.global_derivatives._socket import RpcSocket
from perpsbot.venue.global_derivatives.records import (
    AccountSummary,
    Instrument,
    Order,
    PlacedOrder,
    Position,
    Ticker,
    UserTrade,
)

T = TypeVar("T")

_SIDES = {"buy": "private/buy", "sell": "private/sell"}


class GlobalDerivativesClient:
    """Typed calls on one gateway account.

    Args:
        http: the HTTP face (always there).
        trading: the trading socket, preferred while ready; None: HTTP only.
    """

    def __init__(self, *, http: RpcHttp, trading: RpcSocket | None = None) -> None:
        self.http = http
        self.trading = trading

    def _read(self, method: str, params: dict[str, Any]) -> Any:
        if self.trading is not None and self.trading.ready:
            try:
                return self.trading.call(method, params)
            except VenueTransportError:
                pass  # the socket failed under the read: ask again over HTTP, below
        return self.http.call(method, params)

    def _typed(self, method: str, params: dict[str, Any], kind: type[T]) -> T:
        return typed(self._read(method, params), kind, method)

    # --- market data ----------------------------------------------------------------------------

    def get_time_ms(self) -> int:
        """The venue's clock, milliseconds since the epoch (for ``valid_until``)."""
        return self._typed("public/get_time", {}, int)

    def instruments(self, currency: str = "USDC") -> list[Instrument]:
        return self._typed(
            "public/get_instruments", {"currency": currency, "kind": "future"}, list[Instrument]
        )

    def ticker(self, instrument: str) -> Ticker:
        return self._typed("public/ticker", {"instrument_name": instrument}, Ticker)

    # --- orders ---------------------------------------------------------------------------------

    def place(
        self,
        side: str,
        instrument: str,
        contracts: Decimal,
        *,
        label: str,
        order_type: str = "limit",
        price: Decimal | None = None,
        time_in_force: str = "good_til_cancelled",
        post_only: bool = False,
        reduce_only: bool = False,
        valid_until_ms: int | None = None,
    ) -> PlacedOrder:
        """``private/buy``/``private/sell`` in ``contracts`` (never ``amount``), sent once.

        Raises:
            OrderRejectedError: refused; nothing was placed.
            VenueRateLimitedError: not carried out; try later.
            OrderOutcomeUnknownError: may or may not exist: look it up by ``label``.
        """
        method = _SIDES.get(side)
        if method is None:
            raise ValueError(f"side must be 'buy' or 'sell', was {side!r}")
        params: dict[str, Any] = {
            "instrument_name": instrument,
            "contracts": contracts,
            "type": order_type,
            "label": label,
            "time_in_force": time_in_force,
        }
        if price is not None:
            params["price"] = price
        if post_only:
            params["post_only"] = True
            params["reject_post_only"] = True  # a re-priced order is not the order approved
        if reduce_only:
            params["reduce_only"] = True
        if valid_until_ms is not None:
            params["valid_until"] = valid_until_ms
        if self.trading is not None and self.trading.ready:
            result = self.trading.call(method, params, label=label)
        else:
            result = self.http.place(method, params, label=label)
        return typed(result, PlacedOrder, method)

    def cancel(self, order_id: str) -> Order:
        return self._typed("private/cancel", {"order_id": order_id}, Order)

    def order_state(self, order_id: str) -> Order:
        return self._typed("private/get_order_state", {"order_id": order_id}, Order)

    def open_orders(self, instrument: str) -> list[Order]:
        return self._typed(
            "private/get_open_orders_by_instrument", {"instrument_name": instrument}, list[Order]
        )

    def open_orders_by_label(self, currency: str, label: str) -> list[Order]:
        params = {"currency": currency, "label": label}
        return self._typed("private/get_open_orders_by_label", params, list[Order])

    def order_state_by_label(self, currency: str, label: str) -> list[Order]:
        params = {"currency": currency, "label": label}
        return self._typed("private/get_order_state_by_label", params, list[Order])

    def order_history(
        self,
        instrument: str,
        *,
        count: int = 1000,
        offset: int = 0,
        include_unfilled: bool = True,
        historical: bool = False,
    ) -> list[Order]:
        params = {
            "instrument_name": instrument,
            "count": count,
            "offset": offset,
            "include_unfilled": include_unfilled,
            "historical": historical,
        }
        return self._typed("private/get_order_history_by_instrument", params, list[Order])

    def user_trades(
        self, instrument: str, *, count: int = 1000, historical: bool = False
    ) -> list[UserTrade]:
        params = {"instrument_name": instrument, "count": count, "historical": historical}
        answer = self._read("private/get_user_trades_by_instrument", params)
        trades = answer.get("trades") if isinstance(answer, dict) else answer
        return typed(trades, list[UserTrade], "private/get_user_trades_by_instrument")

    def user_trades_by_order(self, order_id: str) -> list[UserTrade]:
        return self._typed(
            "private/get_user_trades_by_order", {"order_id": order_id}, list[UserTrade]
        )

    # --- account --------------------------------------------------------------------------------

    def positions(self, currency: str = "USDC") -> list[Position]:
        params = {"currency": currency, "kind": "future"}
        return self._typed("private/get_positions", params, list[Position])

    def account_summary(self, currency: str = "USDC") -> AccountSummary:
        return self._typed("private/get_account_summary", {"currency": currency}, AccountSummary)
