"""The venue gateway over Advanced Trade's REST client: spot and US CFM futures."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from decimal import Decimal

import msgspec

from perpsbot.errors import OrderNotFoundError, VenueResponseError
from perpsbot.messages import FuturesAccount, ProductSpec, VenuePosition
from perpsbot.venue._translate import (
    accrued_funding,
    cancel_outcome,
    futures_account,
    order_request,
    product_spec,
    venue_fill,
    venue_order,
)
from perpsbot.venue.gateway import (
    CancelOutcome,
    ClientIdLookup,
    NewOrder,
    VenueAccount,
    VenueFill,
    VenueOrder,
)
from perpsbot.venue.rest import RestClient

__all__ = ["AdvancedTradeGateway", "futures_account", "order_request", "product_spec"]

#: The ``order_status`` filter of an open order (``CANCEL_QUEUED`` may still fill).
_OPEN_STATUSES = ("OPEN", "PENDING", "QUEUED", "CANCEL_QUEUED")


class AdvancedTradeGateway:
    """A :class:`~perpsbot.venue.gateway.VenueGateway` over one :class:`RestClient`.

    Exactly-once creation is the client's (``RestClient.create_order``): a reused client
    order id that the venue answers with the existing order, or refuses as
    ``DUPLICATE_CLIENT_ORDER_ID``, is settled by looking the order up.

    Args:
        rest: the REST client; the gateway owns it (``close`` closes it).
    """

    deduplicates_client_ids = True
    """A reused ``client_order_id`` returns the existing order or is refused, never placed."""

    def __init__(self, rest: RestClient) -> None:
        self._rest = rest

    def products(self, symbols: Sequence[str]) -> dict[str, ProductSpec]:
        listed = {p.product_id: p for p in self._rest.products()}
        specs: dict[str, ProductSpec] = {}
        for symbol in symbols:
            product = listed.get(symbol)
            if product is None:  # listed since the catalogue's pages were read, or not at all
                try:
                    product = self._rest.product(symbol)
                except VenueResponseError as exc:
                    if exc.status != 404:
                        raise
                    continue
            specs[symbol] = product_spec(product)
        return specs

    def request_text(self, order: NewOrder) -> str:
        return msgspec.json.encode(order_request(order).to_wire()).decode()

    def create_order(self, order: NewOrder) -> str:
        return self._rest.create_order(order_request(order)).order_id

    def cancel_orders(self, venue_order_ids: Sequence[str]) -> list[CancelOutcome]:
        return [cancel_outcome(r) for r in self._rest.cancel_orders(list(venue_order_ids))]

    def get_order(self, venue_order_id: str) -> VenueOrder:
        try:
            return venue_order(self._rest.get_order(venue_order_id))
        except VenueResponseError as exc:
            if exc.status == 404:
                raise OrderNotFoundError(
                    f"order {venue_order_id} is not at the venue: GET /orders/historical "
                    "answered 404",
                    venue_order_id=venue_order_id,
                ) from exc
            raise

    def open_orders(self, symbols: Sequence[str]) -> list[VenueOrder]:
        found = self._rest.list_orders(product_ids=list(symbols), statuses=list(_OPEN_STATUSES))
        return [venue_order(o) for o in found]

    def orders_by_client_id(
        self, symbols: Sequence[str], client_order_ids: Collection[str]
    ) -> ClientIdLookup:
        # One listing of every order in these symbols finds them all by client order id; a
        # client id the venue deduplicates is absent when it is not listed.
        return ClientIdLookup(
            found={
                o.client_order_id: venue_order(o)
                for o in self._rest.list_orders(product_ids=list(symbols))
                if o.client_order_id in client_order_ids
            }
        )

    def fills(self, venue_order_ids: Sequence[str]) -> list[VenueFill]:
        return [venue_fill(f) for f in self._rest.fills(order_ids=list(venue_order_ids))]

    def fills_since(self, symbols: Sequence[str], since_ns: int) -> list[VenueFill]:
        # The venue filters by trade time (``start_sequence_timestamp``); the check here
        # keeps the window whatever a venue does with it.
        fills = self._rest.fills(product_ids=list(symbols), since_ns=since_ns)
        return [f for f in map(venue_fill, fills) if f.ts_ns is None or f.ts_ns >= since_ns]

    def account(self, specs: Mapping[str, ProductSpec]) -> VenueAccount:
        """Futures: positions from ``/cfm/positions`` (with the funding accrued on each, read
        off its unrealized PnL), then equity and margin from the balance summary (its total
        USD, which includes the spot USD, plus unrealized PnL). Spot: each base
        currency's balance, valued at the mid in the equity (the whole account's); without
        futures the USD wallet is the cash."""
        positions: list[VenuePosition] = []
        wallets: dict[str, Decimal] = {}
        equity: Decimal | None = Decimal(0)
        margin: FuturesAccount | None = None
        futures = {s: spec for s, spec in specs.items() if spec.is_future}
        spot = {s: spec for s, spec in specs.items() if not spec.is_future}
        if futures:
            # The positions before the margin: a fill in between is then in the margin's
            # figures and not in the positions, which risk takes as the ones those figures
            # hold (it counts that fill twice, never not at all).
            held = {p.product_id: p for p in self._rest.cfm_positions()}
            summary = self._rest.cfm_balance_summary()
            equity = summary.total_usd_balance + summary.unrealized_pnl
            margin = futures_account(summary)
            for symbol, spec in sorted(futures.items()):
                p = held.get(symbol)
                positions.append(
                    VenuePosition(
                        symbol=symbol,
                        quantity=p.signed_contracts if p is not None else Decimal(0),
                        average_entry_price=p.avg_entry_price if p is not None else None,
                        contract_size=spec.contract_size,
                        unrealized_pnl=p.unrealized_pnl if p is not None else None,
                        accrued_funding=None if p is None else accrued_funding(p, spec),
                    )
                )
        if spot:
            balances: dict[str, Decimal] = {}
            for account in self._rest.accounts():
                balances[account.currency] = (
                    balances.get(account.currency, Decimal(0)) + account.available + account.hold
                )
            mids = {b.product_id: b.mid for b in self._rest.best_bid_ask(sorted(spot))}
            if not futures:
                equity = balances.get("USD", Decimal(0))
            for symbol in sorted(spot):
                quantity = wallets[symbol] = balances.get(symbol.split("-")[0], Decimal(0))
                mid = mids.get(symbol)
                if equity is not None:
                    equity = None if mid is None else equity + quantity * mid
        return VenueAccount(
            positions=tuple(positions), spot_wallets=wallets, equity=equity, futures=margin
        )

    def close(self) -> None:
        self._rest.close()

    def __repr__(self) -> str:
        return f"AdvancedTradeGateway({self._rest!r})"
