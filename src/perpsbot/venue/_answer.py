"""An HTTP answer of the venue mapped to its decoded body or to the error tree: 429 to
``VenueRateLimitedError`` (with ``Retry-After``), 401/403 to ``VenueAuthError``, 5xx to
``VenueTransportError``, other non-2xx and unreadable bodies to ``VenueResponseError``."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from typing import Any

import msgspec

from perpsbot.errors import (
    VenueAuthError,
    VenueRateLimitedError,
    VenueResponseError,
    VenueTransportError,
)

__all__ = ["mapped_answer"]

_log = logging.getLogger("perpsbot.venue.rest")


def _retry_after_s(value: str | None, what: str) -> float | None:
    """``Retry-After`` in seconds; None when absent, an HTTP-date, or malformed."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None  # an HTTP-date; fall back to our own backoff
    if not math.isfinite(seconds) or seconds < 0:
        _log.warning("%s: ignored a malformed Retry-After %r", what, value[:40])
        return None
    return seconds


def _error_code(body: bytes) -> str:
    try:
        data = msgspec.json.decode(body)
    except (msgspec.DecodeError, RecursionError):  # too deep: refused too
        return body[:120].decode("utf-8", "replace").strip()
    if isinstance(data, dict):
        parts = [str(data.get(k)) for k in ("error", "message") if data.get(k)]
        return ": ".join(parts)
    return ""


def mapped_answer(
    what: str,
    status: int,
    headers: Mapping[str, str],
    content: bytes,
    decode: Callable[[bytes], Any],
) -> Any:
    """The decoded body of a 2xx answer to ``what``; any other answer's error."""
    if status == 429:
        retry_after = _retry_after_s(headers.get("Retry-After"), what)
        raise VenueRateLimitedError(
            f"{what} was rate limited (429, Retry-After={retry_after})",
            retry_after_s=retry_after,
        )
    if status in (401, 403):
        raise VenueAuthError(f"{what} was refused with {status}: {_error_code(content)}")
    if status >= 500:
        raise VenueTransportError(f"{what} failed with {status}: {_error_code(content)}")
    if status >= 300:
        raise VenueResponseError(
            f"{what} must answer 2xx, answered {status}: {_error_code(content)}",
            status=status,
            body=content[:500].decode("utf-8", "replace"),
        )
    try:
        return decode(content)
    except (msgspec.DecodeError, RecursionError):  # too deep: refused too
        raise VenueResponseError(
            f"{what} must answer JSON, answered {content[:80]!r}",
            status=status,
            body=content[:500].decode("utf-8", "replace"),
        ) from None
