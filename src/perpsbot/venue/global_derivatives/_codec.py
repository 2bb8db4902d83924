"""The JSON-RPC 2.0 envelope: requests out (Decimal as number tokens), frames in (numbers as
Decimal, never float), and typed records from answers with errors that name the field."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, TypeVar

import attrs
import msgspec

from perpsbot.errors import FrameDecodeError, VenueResponseError

T = TypeVar("T")

_ENCODER = msgspec.json.Encoder(decimal_format="number")
_DECODER = msgspec.json.Decoder(float_hook=Decimal)


def encode_request(request_id: int, method: str, params: dict[str, Any]) -> bytes:
    return _ENCODER.encode({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})


@attrs.frozen(kw_only=True)
class Answer:
    """An answer to request ``request_id``: ``result``, or ``error`` (the error object)."""

    request_id: int | None
    result: Any = None
    error: dict[str, Any] | None = None


@attrs.frozen(kw_only=True)
class Notice:
    """A subscription notification."""

    channel: str
    data: Any


@attrs.frozen(kw_only=True)
class Heartbeat:
    """``heartbeat`` or ``test_request`` (answer the latter with ``public/test``)."""

    kind: str


Frame = Answer | Notice | Heartbeat


def decode_frame(raw: bytes | str) -> Frame:
    """One frame; :class:`FrameDecodeError` naming what was expected and found otherwise."""
    try:
        message = _DECODER.decode(raw)
    except (msgspec.DecodeError, RecursionError):  # too deep: refused too
        shown = bytes(raw[:60]) if isinstance(raw, bytes) else raw[:60]
        raise FrameDecodeError(f"a gateway frame must be JSON, was {shown!r}") from None
    if not isinstance(message, dict):
        raise FrameDecodeError(
            f"a gateway frame must be a JSON object, was {type(message).__name__}"
        )
    method = message.get("method")
    if method == "subscription":
        params = message.get("params")
        if not isinstance(params, dict) or not isinstance(params.get("channel"), str):
            raise FrameDecodeError(
                f"a subscription frame must carry params.channel, was {str(params)[:80]!r}"
            )
        return Notice(channel=params["channel"], data=params.get("data"))
    if method == "heartbeat":
        params = message.get("params")
        kind = params.get("type") if isinstance(params, dict) else None
        if not isinstance(kind, str):
            raise FrameDecodeError(
                f"a heartbeat frame must carry params.type, was {params!r}"[:120]
            )
        return Heartbeat(kind=kind)
    request_id = message.get("id")
    if request_id is not None and (not isinstance(request_id, int) or isinstance(request_id, bool)):
        raise FrameDecodeError(f"an answer's id must be an integer, was {request_id!r}"[:120])
    error = message.get("error")
    if error is not None:
        if not isinstance(error, dict) or not isinstance(error.get("code"), int):
            raise FrameDecodeError(f"an error answer must carry error.code, was {error!r}"[:160])
        return Answer(request_id=request_id, error=error)
    if "result" not in message:
        raise FrameDecodeError(
            "a gateway frame must be an answer, a subscription or a heartbeat,"
            f" was {str(message)[:80]!r}"
        )
    return Answer(request_id=request_id, result=message["result"])


def typed(data: Any, kind: type[T], what: str) -> T:
    """``data`` as ``kind``; a :class:`VenueResponseError` naming ``what`` and the field."""
    result: T = typed_or(data, kind, VenueResponseError, what)
    return result


def typed_or(data: Any, kind: Any, error: type[Exception], what: str) -> Any:
    """``data`` as ``kind``, or ``error`` naming ``what``, the field, expected and found."""
    try:
        return msgspec.convert(_market_price(data), type=kind)
    except msgspec.ValidationError as exc:
        raise error(f"{what} answered an unexpected shape: {exc}") from None


def _market_price(data: Any) -> Any:
    """A market order's ``price`` is the text ``market_price``: read as no price."""
    if isinstance(data, dict):
        if data.get("price") == "market_price":
            data = {**data, "price": None}
        if isinstance(data.get("order"), dict):
            data = {**data, "order": _market_price(data["order"])}
    elif isinstance(data, list):
        return [_market_price(item) for item in data]
    return data
