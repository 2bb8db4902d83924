"""The venue gateway: what the executor asks of a venue, in the bot's terms.

The executor reaches the venue only through a :class:`VenueGateway`, handed out by the
process's venue link (:class:`GatewaySource`). Advanced Trade's REST client is one
implementation (:class:`~perpsbot.venue.advanced_trade.AdvancedTradeGateway`); a second venue
plugs in as another. So this module imports nothing of a venue: its records are the bot's
(``Side``, ``OrderType``, ``ProductSpec``, ``VenuePosition``, ``FuturesAccount``) and what
crosses it assumes nothing a venue may do differently. In particular:

- A reused client order id: a venue may return the existing order or refuse the duplicate.
  :meth:`VenueGateway.create_order` settles either (a refusal by looking the order up): it
  answers the existing order's id, or raises :class:`~perpsbot.errors.OrderOutcomeUnknownError`
  while the venue cannot show it yet, never :class:`~perpsbot.errors.OrderRejectedError`.
- A lost answer: a venue that deduplicates client order ids
  (:attr:`VenueGateway.deduplicates_client_ids`) makes a re-send under the same id harmless;
  one that does not is sent an order again only once :meth:`VenueGateway.orders_by_client_id`
  proves it absent (not in ``unprovable``) after its attempt's ``send_by_ns``, the instant
  after which the venue must not act on the request.
- An order's ``status`` is a word the executor's state machine maps
  (``perpsbot.actors.execution._order_states.venue_state``, as it maps the user channel's
  ``UserOrderReport.status``): ``OPEN``, ``PENDING`` or ``QUEUED`` while it may fill,
  ``CANCEL_QUEUED`` while a cancel is under way, ``FILLED``, ``CANCELLED``, ``EXPIRED``,
  ``FAILED`` (refused after it was accepted); any other word says nothing. A gateway
  translates its venue's words into these.

A gateway holds no trading state: every call reads or acts on the venue now. Calls block the
caller's thread (the executor's) and raise :class:`~perpsbot.errors.VenueError` subclasses.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from decimal import Decimal
from typing import Any, Protocol

import attrs

from perpsbot.messages import (
    FuturesAccount,
    OrderType,
    ProductSpec,
    Side,
    TimeInForce,
    VenuePosition,
)

__all__ = [
    "CancelOutcome",
    "ClientIdLookup",
    "GatewaySource",
    "NewOrder",
    "VenueAccount",
    "VenueFill",
    "VenueGateway",
    "VenueOrder",
]


def _positive(_instance: object, attribute: attrs.Attribute[Any], value: Decimal | None) -> None:
    if value is None:
        return
    if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
        raise ValueError(f"NewOrder.{attribute.name} must be a positive Decimal, was {value!r}")


def _non_empty(_instance: object, attribute: attrs.Attribute[Any], value: str) -> None:
    if not isinstance(value, str) or not value:
        raise ValueError(f"NewOrder.{attribute.name} must be a non-empty string, was {value!r}")


@attrs.frozen(kw_only=True)
class NewOrder:
    """An order to create: fitted to the product's grid already (sizes are base units for
    spot, contracts for futures). ``leverage`` is None for spot. ``send_by_ns`` (the bot's
    clock, ns since the epoch) is the instant after which the venue must not act on this
    request; None: no deadline (a venue that cannot express one ignores it)."""

    client_order_id: str = attrs.field(validator=_non_empty)
    symbol: str = attrs.field(validator=_non_empty)
    side: Side
    size: Decimal = attrs.field(validator=_positive)
    order_type: OrderType
    time_in_force: TimeInForce
    limit_price: Decimal | None = attrs.field(default=None, validator=_positive)
    post_only: bool = False
    leverage: Decimal | None = attrs.field(default=None, validator=_positive)
    send_by_ns: int | None = None

    def __attrs_post_init__(self) -> None:
        if (self.order_type is OrderType.LIMIT) != (self.limit_price is not None):
            raise ValueError(
                f"NewOrder {self.client_order_id}: a LIMIT order needs a limit price and a "
                f"MARKET order has none, was {self.order_type} with limit {self.limit_price!r}"
            )


@attrs.frozen(kw_only=True)
class VenueOrder:
    """One order as the venue shows it now.

    ``status`` is a word of the module docstring's list. ``size`` is the ordered size (None
    when the venue sized it otherwise, e.g. in quote currency); ``filled_size`` is
    cumulative; ``average_price`` is None until something filled.
    """

    venue_order_id: str
    client_order_id: str
    symbol: str
    side: Side
    status: str
    size: Decimal | None
    limit_price: Decimal | None
    filled_size: Decimal
    average_price: Decimal | None


@attrs.frozen(kw_only=True)
class VenueFill:
    """One execution of one of our orders. ``fill_id`` is unique per venue (fills are
    deduplicated by it); ``liquidity`` is the venue's word (``MAKER``, ``TAKER``, ...);
    ``ts_ns`` is the trade's time, None if the venue did not say."""

    fill_id: str
    venue_order_id: str
    side: Side | None
    price: Decimal
    size: Decimal
    fee: Decimal
    liquidity: str
    ts_ns: int | None


@attrs.frozen(kw_only=True)
class CancelOutcome:
    """What became of one order's cancel: ``cancelled`` False says the venue refused it
    (``reason`` is its word for why)."""

    venue_order_id: str
    cancelled: bool
    reason: str = ""


@attrs.frozen(kw_only=True)
class ClientIdLookup:
    """What a lookup by client order id showed: ``found`` by client order id, and the ids
    neither found nor provably absent (``unprovable``): the venue may hold them where its
    lists do not show them yet. An id in neither is proven absent.

    On a venue that does not deduplicate client order ids, others may reuse one: ``carrying``
    lists, for an id more than one order carries, all of them (earliest first; ``found``
    holds the first), so that the caller can tell its own order by what it asked for."""

    found: Mapping[str, VenueOrder]
    unprovable: frozenset[str] = frozenset()
    carrying: Mapping[str, tuple[VenueOrder, ...]] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class VenueAccount:
    """The account, for the symbols it was read for.

    ``positions`` are the futures positions (one per futures symbol, 0 when flat);
    ``spot_wallets`` how much of each spot symbol's base currency the wallets hold (the
    owner's coins included); ``equity`` the whole account in USD (None when a spot holding
    cannot be valued); ``futures`` the futures account's margin (None without futures).
    """

    positions: tuple[VenuePosition, ...]
    spot_wallets: Mapping[str, Decimal]
    equity: Decimal | None
    futures: FuturesAccount | None


class VenueGateway(Protocol):
    """What the executor asks of a venue (see the module docstring)."""

    @property
    def deduplicates_client_ids(self) -> bool:
        """True if the venue recognises a reused client order id (so a re-send after a lost
        answer is never a second order); False: re-send only what is proven absent."""
        ...

    def products(self, symbols: Sequence[str]) -> dict[str, ProductSpec]:
        """The specs of ``symbols``, read now, in their order; a symbol the venue does not
        list is left out."""
        ...

    def request_text(self, order: NewOrder) -> str:
        """What :meth:`create_order` would send for ``order``, as the venue's request text
        (a dry run shows it); nothing is sent."""
        ...

    def create_order(self, order: NewOrder) -> str:
        """Create ``order`` exactly once under its client order id; returns the venue order
        id (the existing order's, if the venue had it already).

        Raises:
            OrderRejectedError: the venue refused the order (never for a reused client id).
            OrderOutcomeUnknownError: it may or may not exist; look it up by client id later.
            VenueError: any other failure, after which it may exist too.
        """
        ...

    def cancel_orders(self, venue_order_ids: Sequence[str]) -> list[CancelOutcome]:
        """Cancel these orders; one outcome per order the venue answered for."""
        ...

    def get_order(self, venue_order_id: str) -> VenueOrder:
        """One order by venue order id.

        Raises:
            OrderNotFoundError: the venue does not show it (yet).
        """
        ...

    def open_orders(self, symbols: Sequence[str]) -> list[VenueOrder]:
        """Every open order in ``symbols``, ours and others'."""
        ...

    def orders_by_client_id(
        self, symbols: Sequence[str], client_order_ids: Collection[str]
    ) -> ClientIdLookup:
        """The orders in ``symbols``, open or not, that carry one of ``client_order_ids``, and
        the ids the venue shows none of but cannot prove absent (see :class:`ClientIdLookup`)."""
        ...

    def fills(self, venue_order_ids: Sequence[str]) -> list[VenueFill]:
        """The fills of these orders that the venue lists now, each once."""
        ...

    def fills_since(self, symbols: Sequence[str], since_ns: int) -> list[VenueFill]:
        """Every fill in ``symbols`` the venue lists now that traded at or after ``since_ns``
        (or without a trade time), ours and others', each once: reconciliation's sweep."""
        ...

    def account(self, specs: Mapping[str, ProductSpec]) -> VenueAccount:
        """Positions, wallets, equity and margin for the symbols of ``specs``."""
        ...

    def close(self) -> None:
        """Release the connections; the gateway is not used again."""
        ...


class GatewaySource(Protocol):
    """Hands out a new gateway (the process's venue link): one per actor that trades."""

    def gateway(self) -> VenueGateway: ...
