"""Field helpers for the codec: each checks one wire field and raises FieldError on a bad one.

FieldError carries the field, the expected and the found; :func:`fail` turns it into the
public :class:`~perpsbot.errors.FrameDecodeError` with the full path of the field.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from perpsbot.errors import FrameDecodeError
from perpsbot.venue.timestamps import parse_rfc3339_ns

EVENT_TYPES = {"snapshot": True, "update": False}
UNSET_TIME_PREFIX = "0001-01-01"


class FieldError(Exception):
    """Raised by the helpers below; turned into FrameDecodeError with the full path."""

    def __init__(self, field: str, expected: str, found: object) -> None:
        super().__init__(field)
        self.field = field
        self.expected = expected
        self.found = found


def shown(found: object) -> str:
    text = repr(found)
    return text if len(text) <= 80 else text[:77] + "..."


def fail(path: str, err: FieldError) -> FrameDecodeError:
    where = f"{path}.{err.field}" if err.field else path
    return FrameDecodeError(f"{where} must be {err.expected}, found {shown(err.found)}")


def get(obj: dict[str, Any], key: str) -> Any:
    try:
        return obj[key]
    except KeyError:
        raise FieldError(key, "present", "nothing") from None


def text(obj: dict[str, Any], key: str) -> str:
    value = get(obj, key)
    if type(value) is not str:
        raise FieldError(key, "a string", value)
    return value


def opt_text(obj: dict[str, Any], key: str) -> str:
    value = obj.get(key, "")
    if value is None:
        return ""
    if type(value) is not str:
        raise FieldError(key, "a string", value)
    return value


def to_dec(value: object, key: str) -> Decimal:
    if type(value) is str or type(value) is int:
        try:
            number = Decimal(value)
        except (InvalidOperation, ValueError):
            raise FieldError(key, "a decimal string", value) from None
        if number.is_finite():
            return number
    raise FieldError(key, "a finite decimal string", value)


def dec(obj: dict[str, Any], key: str) -> Decimal:
    return to_dec(get(obj, key), key)


def opt_dec(obj: dict[str, Any], key: str) -> Decimal | None:
    value = obj.get(key)
    if value is None or value == "":
        return None
    return to_dec(value, key)


def integer(value: object, key: str) -> int:
    if type(value) is int:
        return value
    if type(value) is str and value.isdigit() and value.isascii():
        return int(value)
    raise FieldError(key, "an integer or a string of digits", value)


def time_ns(value: object, key: str) -> int:
    if type(value) is not str:
        raise FieldError(key, "an RFC 3339 timestamp string", value)
    try:
        return parse_rfc3339_ns(value)
    except (ValueError, IndexError):
        raise FieldError(key, "an RFC 3339 timestamp", value) from None


def obj(value: object, key: str) -> dict[str, Any]:
    if type(value) is not dict:
        raise FieldError(key, "an object", value)
    return value


def list_field(obj: dict[str, Any], key: str) -> list[Any]:
    value = get(obj, key)
    if type(value) is not list:
        raise FieldError(key, "a list", value)
    return value


def snapshot_flag(event: dict[str, Any]) -> bool:
    kind = get(event, "type")
    try:
        return EVENT_TYPES[kind]
    except (KeyError, TypeError):
        raise FieldError("type", "'snapshot' or 'update'", kind) from None


def flag(obj: dict[str, Any], key: str) -> bool:
    value = obj.get(key, False)
    if value in (True, "true", "TRUE", "True"):
        return True
    if value in (False, "false", "FALSE", "False", "", None):
        return False
    raise FieldError(key, "'true' or 'false'", value)
