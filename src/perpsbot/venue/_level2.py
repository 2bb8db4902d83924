"""``l2_data`` frames: msgspec decodes and validates them in one pass; a refused one is
explained by the same field checks as every other channel.

msgspec says what it refused only in its own words, as text. Rather than parse that text,
a refused frame (rare, off the hot path) is checked again, field by field, by the helpers of
:mod:`._fields`, which raise the codec's one error: ``FrameDecodeError("path must be
expected, found value")``. The checks mirror the struct's constraints in :mod:`.frames`
(lax mode: quoted numbers are numbers); should they ever accept what msgspec refused, the
error carries msgspec's own text instead of a guess.
"""

from __future__ import annotations

from typing import Any

import msgspec

from perpsbot.errors import FrameDecodeError
from perpsbot.venue._fields import FieldError, fail, get, list_field, obj, text
from perpsbot.venue.frames import Level2Frame

__all__ = ["decode_level2", "level2_from_dict"]

decode_level2 = msgspec.json.Decoder(Level2Frame, strict=False).decode
"""Bytes or str to a :class:`Level2Frame`; raises msgspec's errors (the codec catches them)."""

_SIDES = ("bid", "offer")
_KINDS = ("snapshot", "update")


def level2_from_dict(message: dict[str, Any]) -> Level2Frame:
    """An already-parsed ``l2_data`` message to its frame.

    Raises:
        FrameDecodeError: a field is missing or malformed; names its path, the expected and
            the found.
    """
    try:
        return msgspec.convert(message, Level2Frame, strict=False)
    except msgspec.ValidationError as exc:
        try:
            _check(message)
        except FrameDecodeError as explained:
            raise explained from None
        raise FrameDecodeError(f"l2_data must be a valid level2 message: {exc}") from None


def _check(message: dict[str, Any]) -> None:
    """Raise the FrameDecodeError naming the first field ``Level2Frame`` refuses."""
    try:
        seq = get(message, "sequence_num")
        number = _number(seq)
        if number is None or not number >= 0 or not number.is_integer():
            raise FieldError("sequence_num", "an integer >= 0", seq)
        stamp = text(message, "timestamp")
        if not 20 <= len(stamp) <= 40:
            raise FieldError("timestamp", "an RFC 3339 timestamp", stamp)
        events = list_field(message, "events")
    except FieldError as err:
        raise fail("l2_data", err) from None
    for i, event in enumerate(events):
        try:
            body = obj(event, "")
            kind = get(body, "type")
            if kind not in _KINDS:
                raise FieldError("type", "'snapshot' or 'update'", kind)
            text(body, "product_id")
            updates = list_field(body, "updates")
        except FieldError as err:
            raise fail(f"l2_data.events[{i}]", err) from None
        for j, update in enumerate(updates):
            try:
                _check_update(obj(update, ""))
            except FieldError as err:
                raise fail(f"l2_data.events[{i}].updates[{j}]", err) from None


def _check_update(update: dict[str, Any]) -> None:
    side = get(update, "side")
    if side not in _SIDES:
        raise FieldError("side", "'bid' or 'offer'", side)
    price = get(update, "price_level")
    number = _number(price)
    if number is None or not 0 < number < 1e15:
        raise FieldError("price_level", "a decimal string > 0 and < 1e15", price)
    size = get(update, "new_quantity")
    number = _number(size)
    if number is None or not 0 <= number < 1e15:
        raise FieldError("new_quantity", "a size >= 0 and < 1e15", size)


def _number(value: object) -> float | None:
    """A JSON number or a quoted one, as msgspec's lax mode reads it; None if neither."""
    if type(value) is int or type(value) is float:
        return float(value)
    if type(value) is str:
        try:
            return float(value)
        except ValueError:
            return None
    return None
