"""Pure functions from Advanced Trade websocket JSON to the typed records in :mod:`.frames`.

:func:`decode_frame` takes the raw frame (bytes or str) or an already-parsed dict. Every
malformed input raises :class:`~perpsbot.errors.FrameDecodeError` naming the field path, what
was expected and what was found; no other exception escapes. Unknown channels decode to
:class:`~.frames.UnknownFrame` (they still consume a sequence number).

``l2_data``, the one channel that arrives by the hundred thousand a second, is decoded and
validated by msgspec straight into :class:`~.frames.Level2Frame` in one pass (about a third of
the cost of parsing to dicts and checking them in Python). msgspec runs in lax mode there,
because the venue quotes its numbers: it also takes a quoted or integral-float
``sequence_num``. Any other frame, or a malformed one, fails that attempt at once and takes the
general path, which explains it.

Why the other channels are not msgspec structs too: they arrive a few times a second, not
by the hundred thousand, and their wire quirks need a Python pass anyway (numbers quoted or
not, ``""`` for an absent price, upper-cased sides and types, the ``0001-01-01`` unset time,
``"true"``/``"false"`` flags, events flattened into one record). They are checked field by
field by the helpers of :mod:`._fields`, and so is a level2 frame msgspec refused: every
malformed frame of every channel reaches the caller through the one ``FieldError`` ->
``FrameDecodeError`` path, and msgspec's error text is never parsed.
"""

from __future__ import annotations

from typing import Any

import msgspec

from perpsbot.errors import FrameDecodeError
from perpsbot.venue._channels import DECODERS
from perpsbot.venue._fields import FieldError, fail, get, list_field, shown, time_ns
from perpsbot.venue._level2 import decode_level2, level2_from_dict
from perpsbot.venue.frames import (
    ErrorFrame,
    Frame,
    UnknownFrame,
)

__all__ = ["decode_frame", "encode_subscribe"]


def _error_frame(message: dict[str, Any]) -> ErrorFrame:
    text = message.get("message", "")
    if type(text) is not str:
        raise FrameDecodeError(f"error.message must be a string, found {shown(text)}")
    return ErrorFrame(message=text)


def decode_frame(raw: bytes | bytearray | memoryview | str | dict[str, Any]) -> Frame:
    """Decode one websocket frame into its typed record.

    Raises:
        FrameDecodeError: the frame is not JSON, not an object, or a field is missing or of
            the wrong shape; the message names the field path, the expected and the found.
    """
    if type(raw) is dict:
        message: Any = raw
    else:
        try:
            return decode_level2(raw)  # type: ignore[arg-type]
        except Exception:
            pass  # another channel or a malformed frame: the general path explains which
        try:
            message = msgspec.json.decode(raw)  # type: ignore[arg-type]
        except (msgspec.DecodeError, RecursionError, TypeError, UnicodeError) as exc:
            raise FrameDecodeError(f"frame must be JSON, found {shown(raw)} ({exc})") from None
        if type(message) is not dict:
            raise FrameDecodeError(f"frame must be a JSON object, found {shown(message)}")
    channel = message.get("channel")
    if channel is None:
        if message.get("type") == "error":
            return _error_frame(message)
        raise FrameDecodeError(f"frame.channel must be present, found keys {sorted(message)!r}")
    if type(channel) is not str:
        raise FrameDecodeError(f"frame.channel must be a string, found {shown(channel)}")
    if channel == "l2_data":
        return level2_from_dict(message)
    try:
        seq = message["sequence_num"]
        if type(seq) is not int or seq < 0:
            raise FieldError("sequence_num", "an integer >= 0", seq)
        ts_ns = time_ns(get(message, "timestamp"), "timestamp")
        decoder = DECODERS.get(channel)
        if decoder is None:
            return UnknownFrame(sequence_num=seq, ts_event_ns=ts_ns, channel=channel)
        events = list_field(message, "events")
    except KeyError:
        raise FrameDecodeError(f"{channel}.sequence_num must be present, found nothing") from None
    except FieldError as err:
        raise fail(channel, err) from None
    return decoder(seq, ts_ns, events, channel)


def encode_subscribe(
    channel: str,
    product_ids: tuple[str, ...] = (),
    *,
    jwt: str | None = None,
    subscribe: bool = True,
) -> bytes:
    """The subscribe (or unsubscribe) message for one channel, as JSON bytes."""
    body: dict[str, Any] = {"type": "subscribe" if subscribe else "unsubscribe", "channel": channel}
    if product_ids:
        body["product_ids"] = list(product_ids)
    if jwt is not None:
        body["jwt"] = jwt
    return msgspec.json.encode(body)
