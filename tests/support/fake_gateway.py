"""A second venue behind the gateway protocol, in memory: proof that the executor's parts run
against an implementation other than Advanced Trade's.

Its venue names products as Deribit does (``BTC-PERPETUAL``), numbers orders and trades its
own way, fills a market order at once at ``price``, rests a limit order, and refuses a reused
client order id (it keeps no index by client id); the gateway settles that refusal by looking
the order up, as the protocol requires.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from decimal import Decimal

import attrs

from perpsbot.errors import OrderNotFoundError, OrderRejectedError
from perpsbot.messages import OrderType, ProductSpec, VenuePosition
from perpsbot.venue.gateway import (
    CancelOutcome,
    ClientIdLookup,
    NewOrder,
    VenueAccount,
    VenueFill,
    VenueGateway,
    VenueOrder,
)

PERPETUAL = ProductSpec(
    symbol="BTC-PERPETUAL", is_future=True, contract_size=Decimal(10), base_increment=Decimal(1),
    price_increment=Decimal("0.5"), base_min_size=Decimal(1), min_notional=None,
    max_leverage=Decimal(50),
)  # fmt: skip


class FakeGateway:
    """The in-memory venue and its gateway (see the module docstring).

    Args:
        price: what a market order fills at.
    """

    deduplicates_client_ids = True
    """A reused client order id is refused and the gateway answers the existing order."""

    def __init__(self, *, price: Decimal) -> None:
        self.price = price
        self.created: list[NewOrder] = []
        """Every order the venue accepted, in order."""
        self.orders: dict[str, VenueOrder] = {}
        self._fills: dict[str, list[VenueFill]] = {}
        self.closed = False

    def products(self, symbols: Sequence[str]) -> dict[str, ProductSpec]:
        return {s: PERPETUAL for s in symbols if s == PERPETUAL.symbol}

    def request_text(self, order: NewOrder) -> str:
        return f"private/buy {order.symbol} {order.size}"

    def create_order(self, order: NewOrder) -> str:
        if order.symbol != PERPETUAL.symbol:
            raise OrderRejectedError(
                f"{order.symbol} is not an instrument", reason="invalid_instrument",
                client_order_id=order.client_order_id,
            )  # fmt: skip
        existing = self.orders_by_client_id([order.symbol], {order.client_order_id}).found
        if existing:  # the venue refused the reused label: the order exists, looked up here
            return existing[order.client_order_id].venue_order_id
        venue_id = f"order-{len(self.orders) + 1}"
        market = order.order_type is OrderType.MARKET
        self.created.append(order)
        self.orders[venue_id] = VenueOrder(
            venue_order_id=venue_id, client_order_id=order.client_order_id, symbol=order.symbol,
            side=order.side, status="FILLED" if market else "OPEN", size=order.size,
            limit_price=order.limit_price, filled_size=order.size if market else Decimal(0),
            average_price=self.price if market else None,
        )  # fmt: skip
        if market:
            self._fills[venue_id] = [
                VenueFill(
                    fill_id=f"trade-{venue_id}",
                    venue_order_id=venue_id,
                    side=order.side,
                    price=self.price,
                    size=order.size,
                    fee=Decimal("0.25"),
                    liquidity="T",
                    ts_ns=None,
                )
            ]
        return venue_id

    def cancel_orders(self, venue_order_ids: Sequence[str]) -> list[CancelOutcome]:
        outcomes = []
        for venue_id in venue_order_ids:
            order = self.orders.get(venue_id)
            if order is None or order.status != "OPEN":
                outcomes.append(CancelOutcome(venue_order_id=venue_id, cancelled=False,
                                              reason="not_open"))  # fmt: skip
                continue
            self.orders[venue_id] = attrs.evolve(order, status="CANCELLED")
            outcomes.append(CancelOutcome(venue_order_id=venue_id, cancelled=True))
        return outcomes

    def get_order(self, venue_order_id: str) -> VenueOrder:
        try:
            return self.orders[venue_order_id]
        except KeyError:
            raise OrderNotFoundError(
                f"order {venue_order_id} not found", venue_order_id=venue_order_id
            ) from None

    def open_orders(self, symbols: Sequence[str]) -> list[VenueOrder]:
        return [o for o in self.orders.values() if o.symbol in symbols and o.status == "OPEN"]

    def orders_by_client_id(
        self, symbols: Sequence[str], client_order_ids: Collection[str]
    ) -> ClientIdLookup:
        return ClientIdLookup(
            found={
                o.client_order_id: o
                for o in self.orders.values()
                if o.symbol in symbols and o.client_order_id in client_order_ids
            }
        )

    def fills(self, venue_order_ids: Sequence[str]) -> list[VenueFill]:
        return [f for venue_id in venue_order_ids for f in self._fills.get(venue_id, [])]

    def fills_since(self, symbols: Sequence[str], since_ns: int) -> list[VenueFill]:
        listed = {o.venue_order_id for o in self.orders.values() if o.symbol in symbols}
        return [
            f
            for venue_id, fills in self._fills.items()
            if venue_id in listed
            for f in fills
            if f.ts_ns is None or f.ts_ns >= since_ns
        ]

    def account(self, specs: Mapping[str, ProductSpec]) -> VenueAccount:
        held = sum((o.filled_size * o.side.sign for o in self.orders.values()), Decimal(0))
        return VenueAccount(
            positions=tuple(
                VenuePosition(
                    symbol=s,
                    quantity=held,
                    average_entry_price=None,
                    contract_size=spec.contract_size,
                )
                for s, spec in specs.items()
            ),
            spot_wallets={},
            equity=Decimal(10_000),
            futures=None,
        )

    def close(self) -> None:
        self.closed = True


class FakeLink:
    """Hands out the one :class:`FakeGateway` (what the venue link is to the executor)."""

    def __init__(self, gateway: FakeGateway) -> None:
        self._gateway = gateway

    def gateway(self) -> VenueGateway:
        return self._gateway
