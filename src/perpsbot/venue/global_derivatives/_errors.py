"""The gateway's error codes as perpsbot's error classes (docs/venues/global-derivatives.md
1.12): classified by code, never by message; a code not pinned here leaves an order *unknown*
(never rejected) and a read a :class:`~perpsbot.errors.VenueRpcError`."""

from __future__ import annotations

from typing import Any

from perpsbot.errors import (
    OrderNotFoundError,
    OrderOutcomeUnknownError,
    OrderRejectedError,
    VenueAuthError,
    VenueError,
    VenueRateLimitedError,
    VenueRpcError,
)

#: The order was refused: nothing was placed.
REFUSED = frozenset(
    {10002, 10003, 10005, 10006, 10007, 10008, 10009, 10011, 10012, 10013, 10014, 10015, 10016,
     10017, 10018, 10019, 10021, 10022, 10023, 10024, 10025, 10026, 10027, 10031, 10032, 10043,
     11029, 11030, 11042, 11043, 11047, 11049, 11050, 11054, -32602}
)  # fmt: skip
#: Not carried out, try later: too_many_requests, retry, settlement, matching queue full.
LATER = frozenset({10028, 10040, 10041, 10047})
#: The access token or session was refused before the request ran.
AUTH = frozenset({13004, 13009})
ORDER_NOT_FOUND = 10004
#: A cancel of an order already closed, filled or not open.
CLOSED = frozenset({10010, 11008, 11044})


def _retry_after_s(error: dict[str, Any]) -> float | None:
    data = error.get("data")
    if not isinstance(data, dict):
        return None
    for key, scale in (("retry_after", 1.0), ("retry_after_ms", 0.001)):
        value = data.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
            return float(value) * scale
    return None


def describe(error: dict[str, Any]) -> str:
    data = error.get("data")
    reason = f" ({data.get('reason')})" if isinstance(data, dict) and data.get("reason") else ""
    return f"{error.get('code')} {error.get('message', '')}{reason}"


def read_error(method: str, error: dict[str, Any]) -> VenueError:
    """The error of a read (or any request but an order's creation)."""
    code = error.get("code")
    what = f"{method} was refused: {describe(error)}"
    if code in LATER:
        return VenueRateLimitedError(what, retry_after_s=_retry_after_s(error))
    if code in AUTH:
        return VenueAuthError(what)
    if code == ORDER_NOT_FOUND:
        return OrderNotFoundError(what, venue_order_id="")
    return VenueRpcError(what, code=int(code or 0), rpc_message=str(error.get("message", "")))


def order_error(method: str, label: str, error: dict[str, Any]) -> VenueError:
    """The error of ``private/buy``/``private/sell`` with ``label``: refused, later, or
    unknown (a code whose meaning is not pinned may hide a placed order)."""
    code = error.get("code")
    what = f"{method} of {label!r} was refused: {describe(error)}"
    if code in REFUSED:
        return OrderRejectedError(
            what, reason=str(error.get("message", code)), client_order_id=label
        )
    if code in LATER:
        return VenueRateLimitedError(what, retry_after_s=_retry_after_s(error))
    return OrderOutcomeUnknownError(
        f"{method} of {label!r} answered {describe(error)}, which does not say whether the order"
        " exists: look it up by label before sending it again",
        client_order_id=label,
    )
