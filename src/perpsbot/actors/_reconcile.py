"""Reconciliation: read what the venue holds, then decide what each order becomes.

:func:`read_venue` does the REST reads (on the executor's thread); :func:`plan` is pure: from
the orders the executor tracks and the venue's view it decides, per order, one action:

- ``Settle``: the venue knows the order; take its status, filled size and fills;
- ``Adopt``: an open order that carries our client-id prefix but that we do not know;
- ``Submit``: never acknowledged, not at the venue, still within its TTL: send it if the
  trading state allows it (with the same client order id, which the venue treats as
  idempotent, so this is never a second order);
- ``Expire``: never sent, not at the venue, past its TTL: never sent again;
- ``Vanished``: acknowledged once, or sent with its answer lost and past its TTL, but the
  venue does not show it (its lists may lag: the executor looks again, several times, before
  it settles the order; it is never sent again past its TTL).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

import attrs

from perpsbot.actors._order_states import TrackedOrder
from perpsbot.errors import VenueResponseError
from perpsbot.ids import is_our_client_order_id
from perpsbot.messages import FuturesAccount, OrderStatus, ProductSpec, VenuePosition
from perpsbot.venue.records import CfmBalanceSummary, Order
from perpsbot.venue.rest import RestClient

_OPEN_STATUSES = ["OPEN", "PENDING", "QUEUED", "CANCEL_QUEUED"]
_NEVER_ACKNOWLEDGED = frozenset(
    {OrderStatus.PENDING_SUBMIT, OrderStatus.SUBMITTED, OrderStatus.UNKNOWN}
)


@attrs.frozen(kw_only=True)
class Lookup:
    """An order whose venue state reconciliation needs."""

    client_order_id: str
    venue_order_id: str | None
    symbol: str


@attrs.frozen(kw_only=True)
class VenueView:
    """What the venue showed at one reconciliation."""

    orders: Mapping[str, Order]
    """Our orders the venue knows, by client order id (open ones and the ones looked up)."""
    open_ours: tuple[Order, ...]
    foreign_open: int
    """Open orders in the configured symbols that do not carry our prefix (left alone)."""
    positions: tuple[VenuePosition, ...]
    """Futures positions (spot positions are the bot's own: see :func:`spot_positions`)."""
    spot_wallets: Mapping[str, Decimal]
    """Spot symbols: how much of the base currency the wallet holds."""
    equity: Decimal | None
    futures: FuturesAccount | None = None
    """The futures account's margin; None without futures symbols."""

    @property
    def liquidation_buffer_pct(self) -> Decimal | None:
        return None if self.futures is None else self.futures.buffer_share


def _get_order(rest: RestClient, venue_order_id: str) -> Order | None:
    try:
        return rest.get_order(venue_order_id)
    except VenueResponseError as exc:
        if exc.status == 404:
            return None
        raise


def read_venue(
    rest: RestClient, *, specs: Mapping[str, ProductSpec], lookups: Iterable[Lookup]
) -> VenueView:
    """The venue's orders, positions and equity for the symbols of ``specs``.

    Raises:
        VenueError: a read failed; the reconciliation did not happen.
    """
    symbols = sorted(specs)
    open_orders = rest.list_orders(product_ids=symbols, statuses=list(_OPEN_STATUSES))
    ours = [o for o in open_orders if is_our_client_order_id(o.client_order_id)]
    orders = {o.client_order_id: o for o in ours}
    missing = [lk for lk in lookups if lk.client_order_id not in orders]
    for lookup in [lk for lk in missing if lk.venue_order_id is not None]:
        assert lookup.venue_order_id is not None
        found = _get_order(rest, lookup.venue_order_id)
        if found is not None:
            orders[lookup.client_order_id] = found
    unacknowledged = {lk.client_order_id for lk in missing if lk.venue_order_id is None}
    if unacknowledged:
        # One listing of every order in these symbols finds them all by client order id.
        for order in rest.list_orders(product_ids=symbols):
            if order.client_order_id in unacknowledged:
                orders[order.client_order_id] = order
    positions, wallets, equity, futures = _account(rest, specs)
    return VenueView(
        orders=orders,
        open_ours=tuple(ours),
        foreign_open=len(open_orders) - len(ours),
        positions=positions,
        spot_wallets=wallets,
        equity=equity,
        futures=futures,
    )


def _account(
    rest: RestClient, specs: Mapping[str, ProductSpec]
) -> tuple[tuple[VenuePosition, ...], dict[str, Decimal], Decimal | None, FuturesAccount | None]:
    """Futures positions, spot wallets, equity (USD) and the futures account's margin.

    Futures: positions from ``/cfm/positions``; equity from the balance summary (its total
    USD, which includes the spot USD, plus unrealized PnL). Spot: each base currency's balance,
    valued at the mid in the equity (the whole account's); without futures the USD wallet is
    the cash.
    """
    positions: list[VenuePosition] = []
    wallets: dict[str, Decimal] = {}
    equity: Decimal | None = Decimal(0)
    margin: FuturesAccount | None = None
    futures = {s: spec for s, spec in specs.items() if spec.is_future}
    spot = {s: spec for s, spec in specs.items() if not spec.is_future}
    if futures:
        summary = rest.cfm_balance_summary()
        equity = summary.total_usd_balance + summary.unrealized_pnl
        margin = futures_account(summary)
        held = {p.product_id: p for p in rest.cfm_positions()}
        for symbol, spec in sorted(futures.items()):
            p = held.get(symbol)
            positions.append(
                VenuePosition(
                    symbol=symbol,
                    quantity=p.signed_contracts if p is not None else Decimal(0),
                    average_entry_price=p.avg_entry_price if p is not None else None,
                    contract_size=spec.contract_size,
                    unrealized_pnl=p.unrealized_pnl if p is not None else None,
                )
            )
    if spot:
        balances: dict[str, Decimal] = {}
        for account in rest.accounts():
            balances[account.currency] = (
                balances.get(account.currency, Decimal(0)) + account.available + account.hold
            )
        mids = {b.product_id: b.mid for b in rest.best_bid_ask(sorted(spot))}
        if not futures:
            equity = balances.get("USD", Decimal(0))
        for symbol in sorted(spot):
            quantity = wallets[symbol] = balances.get(symbol.split("-")[0], Decimal(0))
            mid = mids.get(symbol)
            if equity is not None:
                equity = None if mid is None else equity + quantity * mid
    return tuple(positions), wallets, equity, margin


def futures_account(summary: CfmBalanceSummary) -> FuturesAccount:
    """The futures account's margin from the venue's balance summary.

    Its buffer share (:attr:`FuturesAccount.buffer_share`, what
    ``risk.min_liquidation_buffer_pct`` bounds) is ``buffer / (buffer + threshold)``: the share
    of the futures account's own equity above its liquidation threshold. Not the venue's
    ``liquidation_buffer_percentage``: that is a percentage of the maintenance margin (1000
    and more while little is held), so read as a share it never came near the minimum and the
    liquidation buffer rule could not deny anything. The maintenance share (threshold over
    initial margin) is known only while the account holds margin.
    """
    threshold, initial = summary.liquidation_threshold, summary.initial_margin
    return FuturesAccount(
        buffer=summary.liquidation_buffer_amount,
        threshold=threshold,
        maintenance_share=threshold / initial if threshold > 0 and initial > 0 else None,
    )


@attrs.frozen(kw_only=True)
class Settle:
    client_order_id: str
    venue: Order


@attrs.frozen(kw_only=True)
class Adopt:
    venue: Order


@attrs.frozen(kw_only=True)
class Submit:
    client_order_id: str


@attrs.frozen(kw_only=True)
class Expire:
    client_order_id: str
    reason: str


@attrs.frozen(kw_only=True)
class Vanished:
    client_order_id: str


Action = Settle | Adopt | Submit | Expire | Vanished


def plan(
    orders: Mapping[str, TrackedOrder],
    reconcile: Sequence[str],
    venue: VenueView,
    now_ns: int,
) -> list[Action]:
    """What to do with each order of ``reconcile`` (client order ids of ``orders``) and with
    open orders of ours the venue shows that ``orders`` does not hold (or holds as finished)."""
    actions: list[Action] = []
    for coid in reconcile:
        order = orders[coid]
        found = venue.orders.get(coid)
        if found is not None:
            actions.append(Settle(client_order_id=coid, venue=found))
        elif order.status not in _NEVER_ACKNOWLEDGED or order.venue_order_id is not None:
            actions.append(Vanished(client_order_id=coid))
        elif order.valid_until_ns is not None and now_ns <= order.valid_until_ns:
            actions.append(Submit(client_order_id=coid))
        elif order.status is OrderStatus.PENDING_SUBMIT:
            actions.append(
                Expire(
                    client_order_id=coid,
                    reason="not at the venue by client order id and past its TTL: never sent",
                )
            )
        else:  # sent, its answer lost: it may still show up (lists lag), so looked for again
            actions.append(Vanished(client_order_id=coid))
    listed = set(reconcile)
    for found in venue.open_ours:
        coid = found.client_order_id
        if coid in listed:
            continue
        known = orders.get(coid)
        if known is None:
            actions.append(Adopt(venue=found))
        elif known.status.terminal:
            actions.append(Settle(client_order_id=coid, venue=found))
    return actions
