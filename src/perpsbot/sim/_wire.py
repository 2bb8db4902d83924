"""Wire formatting shared by the REST and websocket faces: decimals, timestamps, error bodies."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal
from typing import Any

import msgspec

UNSET_TIME = "0001-01-01T00:00:00Z"
EPOCH_TIME = "1970-01-01T00:00:00Z"


@functools.lru_cache(maxsize=4096)
def dec(value: Decimal) -> str:
    """A decimal as Coinbase writes it: plain notation, no exponent, no trailing zeros.

    Remembers the last few thousand: an answer repeats the prices and sizes of the last
    ones (equal decimals are written alike, whatever their exponent)."""
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def quantize_down(value: Decimal, step: Decimal) -> Decimal:
    """``value`` rounded down to a multiple of ``step``."""
    return (value / step).to_integral_value(rounding=ROUND_DOWN) * step


def quantize_near(value: Decimal, step: Decimal) -> Decimal:
    """``value`` rounded to the nearest multiple of ``step``."""
    return (value / step).to_integral_value(rounding=ROUND_HALF_EVEN) * step


def is_multiple(value: Decimal, step: Decimal) -> bool:
    return (value % step) == 0


@functools.lru_cache(maxsize=1024)
def _utc_seconds(seconds: int) -> str:
    """``YYYY-MM-DDTHH:MM:SS`` of a Unix second; the recent ones remembered (an answer's
    times are mostly the same few seconds: now, and the fills it lists again)."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def rfc3339_ns(time_ns: int) -> str:
    """RFC 3339 UTC with nine fractional digits, as the websocket envelopes carry."""
    seconds, frac = divmod(time_ns, 10**9)
    return f"{_utc_seconds(seconds)}.{frac:09d}Z"


def rfc3339_us(time_ns: int) -> str:
    """RFC 3339 UTC with six fractional digits, as REST bodies carry."""
    seconds, frac = divmod(time_ns, 10**9)
    return f"{_utc_seconds(seconds)}.{frac // 1000:06d}Z"


def rfc3339_s(time_ns: int) -> str:
    """RFC 3339 UTC to the second."""
    return f"{_utc_seconds(time_ns // 10**9)}Z"


def go_time_string(time_ns: int) -> str:
    """Go's ``time.String()`` form used by heartbeats' ``current_time``."""
    seconds, frac = divmod(time_ns, 10**9)
    base = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S")
    return f"{base}.{frac:09d} +0000 UTC"


def parse_rfc3339_ns(text: str) -> int:
    """Nanoseconds since the epoch from an RFC 3339 string (fraction of up to 9 digits)."""
    body = text.strip()
    if body.endswith(("Z", "z")):
        body = body[:-1] + "+00:00"
    frac_ns = 0
    if "." in body:
        head, rest = body.split(".", 1)
        digits = ""
        while rest and rest[0].isdigit():
            digits, rest = digits + rest[0], rest[1:]
        frac_ns = int((digits + "000000000")[:9]) if digits else 0
        body = head + rest
    moment = datetime.fromisoformat(body)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp()) * 10**9 + frac_ns


def amount(value: Decimal, currency: str = "USD") -> dict[str, str]:
    """A REST ``Amount`` object."""
    return {"value": dec(value), "currency": currency}


def error_body(error: str, message: str, details: str | None = None) -> dict[str, Any]:
    """The REST error body Coinbase sends for 4xx answers."""
    return {
        "error": error,
        "error_details": details if details is not None else message,
        "message": message,
    }


def dumps(payload: Any) -> bytes:
    return msgspec.json.encode(payload)


def to_decimal(value: object, field: str) -> Decimal:
    """A request field as a Decimal; raises ValueError naming the field."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError(f"{field} must be a decimal string, was {value!r}")
    try:
        result = Decimal(str(value))
    except ArithmeticError as exc:
        raise ValueError(f"{field} must be a decimal string, was {value!r}") from exc
    if not result.is_finite():
        raise ValueError(f"{field} must be finite, was {value!r}")
    return result
