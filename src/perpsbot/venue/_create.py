"""Creating an order exactly once: retried only with the same ``client_order_id``, and only
after looking the order up when an attempt failed in transit.

A venue may treat a reused ``client_order_id`` in one of two ways, and nothing here assumes
which: it returns the existing order (Coinbase's docs: "the order will not be created and
the order corresponding with that ID will be returned instead"), or it refuses the request
(HTTP 200 ``success: false`` with the failure reason ``DUPLICATE_CLIENT_ORDER_ID``, a reason
Coinbase lists; see the wire reference, section 2.6). The first needs nothing. The second
means the order exists: it is looked up by client order id and reported as if the venue had
returned it, and if the lookup cannot see it yet the outcome is unknown, never a rejection.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from perpsbot.errors import (
    OrderOutcomeUnknownError,
    OrderRejectedError,
    VenueError,
    VenueRateLimitedError,
    VenueResponseError,
    VenueTransportError,
)
from perpsbot.venue import _parse as parse
from perpsbot.venue._http import HttpTransport
from perpsbot.venue.records import CreatedOrder, OrderRecord

_log = logging.getLogger("perpsbot.venue.rest")
DUPLICATE_CLIENT_ORDER_ID = "DUPLICATE_CLIENT_ORDER_ID"
_REASON_KEYS = ("error", "new_order_failure_reason", "preview_failure_reason", "failure_reason")


class FindOrder(Protocol):
    """Looks an order up by client order id (``RestClient.find_order``)."""

    def __call__(
        self, client_order_id: str, *, product_id: str | None = None
    ) -> OrderRecord | None: ...


def create_once(
    http: HttpTransport,
    find_order: FindOrder,
    *,
    path: str,
    body: dict[str, Any],
    coid: str,
    product_id: str,
    side: str,
) -> CreatedOrder:
    """POST ``body`` to ``path`` exactly once: see :meth:`RestClient.create_order`.

    Both answers a venue may give a reused ``client_order_id`` are handled: the existing
    order (``success: true``) is returned as for a first creation; a refusal that names
    ``DUPLICATE_CLIENT_ORDER_ID`` in ``error``, ``new_order_failure_reason``,
    ``preview_failure_reason`` or the old top-level ``failure_reason`` (the wire reference
    says the reason may sit in any of them) is settled by looking the order up, never
    raised as :class:`OrderRejectedError`; an order the lookup cannot see (or a lookup
    that fails in transit) raises :class:`OrderOutcomeUnknownError`. Its attempts, lookups
    and waits all end within the transport's ``timeout_s``, as any call's do.
    """
    with http.scope(http.timeout_s):  # attempts, lookups and waits: one call's deadline
        attempts = http.retry.max_attempts
        last: VenueError | None = None
        for attempt in range(1, attempts + 1):
            try:
                reply = http.send_once("POST", path, body=body)
            except VenueRateLimitedError as exc:
                last = exc  # refused before processing: no order was created
            except VenueTransportError as exc:
                last = exc
                _log.warning("create %s attempt %d failed in transit: %s", coid, attempt, exc)
                found = _find(find_order, coid, product_id, "failed in transit")
                if found is not None:
                    _log.info("create %s resolved by lookup: order %s", coid, found.order_id)
                    return _found(found, coid)
            else:
                answer = parse.obj(reply, path)
                if _refused_as_duplicate(answer):
                    return _settle_duplicate(find_order, coid, product_id)
                return _created(answer, coid, product_id, side)
            if attempt < attempts:
                assert last is not None
                if not http.backoff_after(last, attempt, private=True):
                    break
        raise OrderOutcomeUnknownError(
            f"create {coid} failed {attempt} time(s) within its deadline and no order with that"
            f" client_order_id was found; last error: {last}",
            client_order_id=coid,
        )


def _find(find_order: FindOrder, coid: str, product_id: str, what: str) -> OrderRecord | None:
    try:
        return find_order(coid, product_id=product_id)
    except (VenueTransportError, VenueRateLimitedError) as exc:
        raise OrderOutcomeUnknownError(
            f"create {coid} {what} and the lookup failed too ({exc}); reconcile by client_order_id",
            client_order_id=coid,
        ) from exc


def _found(order: OrderRecord, coid: str) -> CreatedOrder:
    return CreatedOrder(
        order_id=order.order_id,
        client_order_id=coid,
        product_id=order.product_id,
        side=order.side,
    )


def _refused_as_duplicate(answer: dict[str, Any]) -> bool:
    """True for a ``success: false`` answer whose reason, in any field, is a duplicate id."""
    if answer.get("success") is not False:
        return False
    error = answer.get("error_response")
    fields = [answer.get("failure_reason")]
    if isinstance(error, dict):
        fields += [error.get(key) for key in _REASON_KEYS]
    return DUPLICATE_CLIENT_ORDER_ID in fields


def _settle_duplicate(find_order: FindOrder, coid: str, product_id: str) -> CreatedOrder:
    """The venue refused ``coid`` as already used: the order exists, so report it as found."""
    _log.info("create %s refused as a duplicate client_order_id: looking it up", coid)
    found = _find(find_order, coid, product_id, f"was refused as {DUPLICATE_CLIENT_ORDER_ID}")
    if found is None:
        raise OrderOutcomeUnknownError(
            f"create {coid} was refused as {DUPLICATE_CLIENT_ORDER_ID}, so an order with that "
            "client_order_id exists, but the venue's order list does not show it yet; "
            "reconcile by client_order_id",
            client_order_id=coid,
        )
    _log.info("create %s resolved by lookup: order %s", coid, found.order_id)
    return _found(found, coid)


def _created(reply: dict[str, Any], coid: str, product_id: str, side: str) -> CreatedOrder:
    """The order id from a create reply; ``success: false`` (even with HTTP 200) is a rejection."""
    if reply.get("success") is not True:
        error = reply.get("error_response")
        error = error if isinstance(error, dict) else {}
        reason = _rejection_reason(error)
        if reply.get("success") is not False:
            raise VenueResponseError(
                f"create {coid} must answer success true or false, answered "
                f"{reply.get('success')!r}"
            )
        raise OrderRejectedError(
            f"order {coid} on {product_id} was rejected: {reason} "
            f"{error.get('message') or ''}".strip(),
            reason=reason,
            client_order_id=coid,
        )
    ok = parse.obj(reply.get("success_response") or {}, "success_response")
    order_id = ok.get("order_id") or reply.get("order_id")
    if not isinstance(order_id, str) or not order_id:
        raise VenueResponseError(
            f"create {coid}: success_response.order_id must be a string, found {order_id!r}"
        )
    return CreatedOrder(
        order_id=order_id,
        client_order_id=str(ok.get("client_order_id") or coid),
        product_id=str(ok.get("product_id") or product_id),
        side=str(ok.get("side") or side),
    )


def _rejection_reason(error: dict[str, Any]) -> str:
    for key in _REASON_KEYS:
        value = error.get(key)
        if isinstance(value, str) and value and not value.startswith("UNKNOWN"):
            return value
    return "UNKNOWN_FAILURE_REASON"
