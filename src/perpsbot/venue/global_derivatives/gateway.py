"""The Global Derivatives venue behind the :class:`~perpsbot.venue.gateway.VenueGateway`
protocol (docs/venues/global-derivatives.md 2.3).

The venue does not deduplicate labels (our client order ids), so the gateway says so
(``deduplicates_client_ids`` False) and proves absence the hard way: each order goes out with
``valid_until`` (the send-by instant on the venue's clock, minus a skew margin), and a lookup
by client order id answers an id as absent only when :func:`look_up_label` proves it on
every currency the label may be listed under, twice, past that deadline. An id whose attempt
this gateway did not make (after a restart) has no known deadline: it is never proven absent.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection, Mapping, Sequence
from decimal import Decimal

import attrs

from perpsbot.clock import Clock
from perpsbot.errors import OrderNotFoundError, VenueError, VenueRpcError
from perpsbot.messages import OrderType, ProductSpec, Side, TimeInForce
from perpsbot.venue.gateway import (
    CancelOutcome,
    ClientIdLookup,
    NewOrder,
    VenueAccount,
    VenueFill,
    VenueOrder,
)
from perpsbot.venue.global_derivatives._errors import CLOSED
from perpsbot.venue.global_derivatives._translate import (
    futures_account,
    product_spec,
    venue_fill,
    venue_order,
    venue_position,
)
from perpsbot.venue.global_derivatives.client import GlobalDerivativesClient
from perpsbot.venue.global_derivatives.lookup import DEFAULT_GRACE_MS, Finding, look_up_label
from perpsbot.venue.global_derivatives.records import Instrument, Order

__all__ = ["GlobalDerivativesGateway"]

_log = logging.getLogger("perpsbot.venue.global")

SETTLEMENT = "USDC"
_TIME_IN_FORCE = {
    TimeInForce.GTC: "good_til_cancelled",
    TimeInForce.IOC: "immediate_or_cancel",
}
#: How often the venue's clock offset is read again.
_OFFSET_FOR_NS = 60 * 10**9


@attrs.frozen
class _Attempt:
    instrument: str
    sent_at_ms: int
    deadline_ms: int | None


class GlobalDerivativesGateway:
    """The venue gateway over a :class:`GlobalDerivativesClient` (see the module docstring).

    Args:
        client: the typed client (HTTP, and the trading socket when there is one).
        clock: the bot's clock (the send-by instants are on it).
        skew_ms: taken off every ``valid_until``, so the venue's deadline falls before ours.
        grace_ms: visibility lag allowed for by the proof of absence.
    """

    deduplicates_client_ids = False
    """Labels are "not guaranteed unique" [C2]: a re-send may be a second order."""

    def __init__(
        self,
        client: GlobalDerivativesClient,
        *,
        clock: Clock,
        skew_ms: int = 1_000,
        grace_ms: int = DEFAULT_GRACE_MS,
    ) -> None:
        self._client = client
        self._clock = clock
        self._skew_ms = skew_ms
        self._grace_ms = grace_ms
        self._instruments: dict[str, Instrument] = {}
        self._attempts: dict[str, _Attempt] = {}
        self._clean_since: dict[tuple[str, str, str], int] = {}
        self._offset: tuple[int, int] | None = None  # (venue ms - bot ms, read at bot ns)

    # -- products --------------------------------------------------------------------------

    def products(self, symbols: Sequence[str]) -> dict[str, ProductSpec]:
        listed = {i.instrument_name: i for i in self._client.instruments(SETTLEMENT)}
        specs: dict[str, ProductSpec] = {}
        for symbol in symbols:
            instrument = listed.get(symbol)
            if instrument is None:
                continue
            spec = product_spec(instrument)
            if spec is not None:
                self._instruments[symbol] = instrument
                specs[symbol] = spec
        return specs

    def _instrument(self, symbol: str) -> Instrument:
        instrument = self._instruments.get(symbol)
        if instrument is None:
            self.products([symbol])
            instrument = self._instruments.get(symbol)
        if instrument is None:
            raise VenueError(f"{symbol} must be a linear perpetual the venue lists; it is not")
        return instrument

    # -- orders ----------------------------------------------------------------------------

    def _params(self, order: NewOrder) -> dict[str, object]:
        params: dict[str, object] = {
            "instrument_name": order.symbol,
            "contracts": order.size,
            "type": "market" if order.order_type is OrderType.MARKET else "limit",
            "label": order.client_order_id,
            "time_in_force": _TIME_IN_FORCE[order.time_in_force],
        }
        if order.limit_price is not None:
            params["price"] = order.limit_price
        if order.post_only:
            params["post_only"] = True
            params["reject_post_only"] = True
        return params

    def request_text(self, order: NewOrder) -> str:
        method = "private/buy" if order.side is Side.BUY else "private/sell"
        params = {
            k: str(v) if isinstance(v, Decimal) else v for k, v in self._params(order).items()
        }
        if order.send_by_ns is not None:
            params["valid_until"] = "<send-by instant on the venue's clock>"
        return json.dumps({"method": method, "params": params})

    def _venue_ms(self, bot_ns: int) -> int:
        """``bot_ns`` on the venue's clock (the offset read at most a minute ago)."""
        now_ns = self._clock.time_ns()
        if self._offset is None or now_ns - self._offset[1] > _OFFSET_FOR_NS:
            self._offset = (self._client.get_time_ms() - now_ns // 1_000_000, now_ns)
        return bot_ns // 1_000_000 + self._offset[0]

    def create_order(self, order: NewOrder) -> str:
        self._instrument(order.symbol)
        label = order.client_order_id
        sent_at_ms = self._venue_ms(self._clock.time_ns())
        deadline_ms = None
        if order.send_by_ns is not None:
            deadline_ms = self._venue_ms(order.send_by_ns) - self._skew_ms
        # Recorded before the request: an answer lost from here on is looked up with it.
        self._forget(label)
        self._attempts[label] = _Attempt(order.symbol, sent_at_ms, deadline_ms)
        placed = self._client.place(
            "buy" if order.side is Side.BUY else "sell",
            order.symbol,
            order.size,
            label=label,
            order_type="market" if order.order_type is OrderType.MARKET else "limit",
            price=order.limit_price,
            time_in_force=_TIME_IN_FORCE[order.time_in_force],
            post_only=order.post_only,
            valid_until_ms=deadline_ms,
        )
        self._forget(label)  # answered: the executor follows it by its order id now
        return placed.order.order_id

    def _forget(self, label: str) -> None:
        self._attempts.pop(label, None)
        self._clean_since = {k: v for k, v in self._clean_since.items() if k[0] != label}

    def cancel_orders(self, venue_order_ids: Sequence[str]) -> list[CancelOutcome]:
        outcomes = []
        for venue_id in venue_order_ids:
            try:
                self._client.cancel(venue_id)
            except OrderNotFoundError:
                outcomes.append(CancelOutcome(venue_order_id=venue_id, cancelled=False,
                                              reason="order_not_found"))  # fmt: skip
            except VenueRpcError as exc:
                if exc.code not in CLOSED:
                    raise
                outcomes.append(CancelOutcome(venue_order_id=venue_id, cancelled=False,
                                              reason=exc.rpc_message))  # fmt: skip
            else:
                outcomes.append(CancelOutcome(venue_order_id=venue_id, cancelled=True))
        return outcomes

    def _order(self, order: Order) -> VenueOrder:
        return venue_order(order, self._instrument(order.instrument_name).contract_size)

    def get_order(self, venue_order_id: str) -> VenueOrder:
        try:
            return self._order(self._client.order_state(venue_order_id))
        except OrderNotFoundError as exc:
            raise OrderNotFoundError(
                f"order {venue_order_id} is not at the venue: {exc}", venue_order_id=venue_order_id
            ) from exc

    def open_orders(self, symbols: Sequence[str]) -> list[VenueOrder]:
        return [self._order(o) for s in symbols for o in self._client.open_orders(s)]

    def orders_by_client_id(
        self, symbols: Sequence[str], client_order_ids: Collection[str]
    ) -> ClientIdLookup:
        found: dict[str, VenueOrder] = {}
        carrying: dict[str, tuple[VenueOrder, ...]] = {}
        unprovable: set[str] = set()
        for coid in sorted(client_order_ids):
            attempt = self._attempts.get(coid)
            instruments = [attempt.instrument] if attempt is not None else list(symbols)
            seen: dict[str, Order] = {}
            proven = True
            for instrument in instruments:
                for currency in self._currencies(instrument):
                    finding, orders = self._look(coid, instrument, currency, attempt)
                    seen.update((o.order_id, o) for o in orders)
                    proven = proven and finding is Finding.ABSENT
            if seen:
                # Earliest first, as one lookup orders them (rule 8); the caller tells its own.
                listed = sorted(seen.values(), key=lambda o: (o.creation_timestamp, o.order_id))
                found[coid] = self._order(listed[0])
                if len(listed) > 1:
                    carrying[coid] = tuple(self._order(o) for o in listed)
                self._forget(coid)
            elif not proven:
                unprovable.add(coid)
        return ClientIdLookup(found=found, unprovable=frozenset(unprovable), carrying=carrying)

    def _currencies(self, instrument: str) -> tuple[str, ...]:
        """Where the venue may list a label's orders: the base and the settlement currency
        (the documents do not say which; both are asked, the safe reading)."""
        base = self._instrument(instrument).base_currency
        return (base, SETTLEMENT) if base != SETTLEMENT else (SETTLEMENT,)

    def _look(
        self, coid: str, instrument: str, currency: str, attempt: _Attempt | None
    ) -> tuple[Finding, tuple[Order, ...]]:
        key = (coid, instrument, currency)
        lookup = look_up_label(
            self._client,
            instrument=instrument,
            currency=currency,
            label=coid,
            sent_at_ms=None if attempt is None else attempt.sent_at_ms,
            deadline_ms=None if attempt is None else attempt.deadline_ms,
            clean_since_ms=self._clean_since.get(key),
            grace_ms=self._grace_ms,
        )
        if lookup.clean_since_ms is None:
            self._clean_since.pop(key, None)
        else:
            self._clean_since[key] = lookup.clean_since_ms
        if lookup.finding is Finding.NOT_PROVABLY_ABSENT:
            _log.info("%s on %s (%s): %s", coid, instrument, currency, lookup.reason)
        return lookup.finding, lookup.orders

    # -- fills and the account -------------------------------------------------------------

    def fills(self, venue_order_ids: Sequence[str]) -> list[VenueFill]:
        fills: dict[str, VenueFill] = {}
        for venue_id in venue_order_ids:
            for trade in self._client.user_trades_by_order(venue_id):
                size = self._instrument(trade.instrument_name).contract_size
                fills.setdefault(trade.trade_id, venue_fill(trade, size))
        return list(fills.values())

    def fills_since(self, symbols: Sequence[str], since_ns: int) -> list[VenueFill]:
        """The recent list (24 hours [D12]), one page of 1,000 per symbol."""
        fills: dict[str, VenueFill] = {}
        for symbol in symbols:
            size = self._instrument(symbol).contract_size
            for trade in self._client.user_trades(symbol):
                fill = venue_fill(trade, size)
                if fill.ts_ns is None or fill.ts_ns >= since_ns:
                    fills.setdefault(fill.fill_id, fill)
        return list(fills.values())

    def account(self, specs: Mapping[str, ProductSpec]) -> VenueAccount:
        held = {p.instrument_name: p for p in self._client.positions(SETTLEMENT)}
        summary = self._client.account_summary(SETTLEMENT)
        positions = tuple(
            venue_position(symbol, held.get(symbol), spec.contract_size)
            for symbol, spec in sorted(specs.items())
        )
        return VenueAccount(
            positions=positions,
            spot_wallets={},
            equity=summary.equity,
            futures=futures_account(summary),
        )

    def close(self) -> None:
        if self._client.trading is not None:
            self._client.trading.stop()
        self._client.http.close()

    def __repr__(self) -> str:
        return f"GlobalDerivativesGateway({self._client.http!r})"
