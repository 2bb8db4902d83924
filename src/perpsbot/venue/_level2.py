"""``l2_data`` frames: msgspec decodes and validates them in one pass; errors are explained here.

msgspec names the path of a bad field and what it expected, in its own words. The codec's
contract is one wording for every channel (``path must be expected, found value``), so a
rejected frame is parsed again, off the hot path, to show the value that was found.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from perpsbot.errors import FrameDecodeError
from perpsbot.venue._fields import shown
from perpsbot.venue.frames import Level2Frame

__all__ = ["decode_level2", "level2_from_dict"]

decode_level2 = msgspec.json.Decoder(Level2Frame, strict=False).decode
"""Bytes or str to a :class:`Level2Frame`; raises msgspec's errors (the codec catches them)."""

_EXPECTED = {
    "side": "'bid' or 'offer'",
    "price_level": "a decimal string > 0 and < 1e15",
    "new_quantity": "a size >= 0 and < 1e15",
    "type": "'snapshot' or 'update'",
    "product_id": "a string",
    "sequence_num": "an integer >= 0",
    "timestamp": "an RFC 3339 timestamp",
    "events": "a list of events",
    "updates": "a list of levels",
}
_AT = re.compile(r"^(?P<what>.*) - at `(?P<key>key` in `)?\$(?P<path>.*)`$")
_MISSING = re.compile(r"^Object missing required field `(?P<field>[^`]+)`$")
_STEP = re.compile(r"\.([A-Za-z_][A-Za-z_0-9]*)|\[(\d+)\]")
_EXPECTED_TYPE = re.compile(r"^Expected `(?P<type>[^`]+)`")
_ABSENT = object()


def _lookup(message: Any, path: str) -> Any:
    value = message
    for key, index in _STEP.findall(path):
        try:
            value = value[key] if key else value[int(index)]
        except (KeyError, IndexError, TypeError):
            return _ABSENT
    return value


def level2_from_dict(message: dict[str, Any]) -> Level2Frame:
    """An already-parsed ``l2_data`` message to its frame.

    Raises:
        FrameDecodeError: a field is missing or malformed; names its path, the expected and
            the found.
    """
    try:
        return msgspec.convert(message, Level2Frame, strict=False)
    except msgspec.ValidationError as exc:
        raise _explain(message, str(exc)) from None


def _explain(message: dict[str, Any], error: str) -> FrameDecodeError:
    match = _AT.match(error)
    what, path = (match["what"], match["path"]) if match else (error, "")
    missing = _MISSING.match(what)
    if match and match["key"]:
        expected, found = "an object with string keys", _lookup(message, path)
    elif missing:
        path = f"{path}.{missing['field']}"
        expected, found = "present", "nothing"
    else:
        field = path.rsplit(".", 1)[-1]
        typed = _EXPECTED_TYPE.match(what)
        expected = _EXPECTED.get(field) or (f"a JSON {typed['type']}" if typed else what)
        found = _lookup(message, path)
        if found is _ABSENT:
            expected, found = what, "nothing"
    return FrameDecodeError(f"l2_data{path} must be {expected}, found {shown(found)}")
