"""Creating an order exactly once: retried only with the same ``client_order_id``, and only
after looking the order up when an attempt failed in transit."""

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
from perpsbot.venue.records import CreatedOrder, Order

_log = logging.getLogger("perpsbot.venue.rest")


class FindOrder(Protocol):
    """Looks an order up by client order id (``RestClient.find_order``)."""

    def __call__(self, client_order_id: str, *, product_id: str | None = None) -> Order | None: ...


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
    """POST ``body`` to ``path`` exactly once: see :meth:`RestClient.create_order`."""
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
            found = _find_after_failure(find_order, coid, product_id)
            if found is not None:
                _log.info("create %s resolved by lookup: order %s", coid, found.order_id)
                return CreatedOrder(
                    order_id=found.order_id,
                    client_order_id=coid,
                    product_id=found.product_id,
                    side=found.side,
                )
        else:
            return _created(parse.obj(reply, path), coid, product_id, side)
        if attempt < attempts:
            assert last is not None
            if not http.backoff_after(last, attempt, private=True):
                break
    raise OrderOutcomeUnknownError(
        f"create {coid} failed {attempts} times and no order with that client_order_id "
        f"was found; last error: {last}",
        client_order_id=coid,
    )


def _find_after_failure(find_order: FindOrder, coid: str, product_id: str) -> Order | None:
    try:
        return find_order(coid, product_id=product_id)
    except (VenueTransportError, VenueRateLimitedError) as exc:
        raise OrderOutcomeUnknownError(
            f"create {coid} failed in transit and the lookup failed too ({exc}); "
            "reconcile by client_order_id",
            client_order_id=coid,
        ) from exc


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
    for key in ("error", "new_order_failure_reason", "preview_failure_reason", "failure_reason"):
        value = error.get(key)
        if isinstance(value, str) and value and not value.startswith("UNKNOWN"):
            return value
    return "UNKNOWN_FAILURE_REASON"
