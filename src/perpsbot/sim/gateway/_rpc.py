"""The JSON-RPC 2.0 envelope of the gateway: numbers as JSON numbers, errors with their codes.

Codes follow the table of ``docs/venues/global-derivatives.md`` (1.12), which follows
Deribit's long-standing numbering as ccxt and Coinbase's SDK quote it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec

# The codes the simulated gateway answers (docs/venues/global-derivatives.md, 1.12).
GENERAL_ERROR = 10001
AMOUNT_TOO_LOW = 10002
ORDER_NOT_FOUND = 10004
NOT_ENOUGH_FUNDS = 10009
ALREADY_CLOSED = 10010
TOO_MANY_REQUESTS = 10028
ALREADY_FILLED = 11008
OTHER_REJECT = 11030
NOT_OPEN_ORDER = 11044
POST_ONLY_REJECT = 11054
INVALID_CREDENTIALS = 13004
UNAUTHORIZED = 13009
INTERNAL_SERVER_ERROR = 11094
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
PARSE_ERROR = -32700

_ENCODER = msgspec.json.Encoder(decimal_format="number")
_DECODER = msgspec.json.Decoder(float_hook=Decimal)


class RpcError(Exception):
    """An error answer: ``code``, ``message`` and optional ``data``."""

    def __init__(self, code: int, message: str, data: dict[str, Any] | None = None) -> None:
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message
        self.data = data

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


def encode(message: dict[str, Any]) -> bytes:
    """JSON with every Decimal written as a number token (the venue's numbers are numbers)."""
    return _ENCODER.encode(message)


def decode(raw: bytes | str) -> Any:
    """JSON with every non-integral number read as a Decimal (never through float)."""
    return _DECODER.decode(raw)


def answer(request_id: object, result: object, *, us_in: int, us_out: int) -> dict[str, Any]:
    """A result answer, with the server's microsecond stamps as Deribit sends them."""
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "result": result,
        "usIn": us_in,
        "usOut": us_out,
        "usDiff": us_out - us_in,
        "testnet": False,
    }


def error_answer(request_id: object, error: RpcError) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": error.body(), "testnet": False}


def notification(channel: str, data: object) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "method": "subscription",
        "params": {"channel": channel, "data": data},
    }


def parse_request(message: object) -> tuple[object, str, dict[str, Any]]:
    """``(id, method, params)`` of a request, or an RpcError naming what is wrong."""
    if not isinstance(message, dict):
        raise RpcError(INVALID_REQUEST, "Invalid Request", {"reason": "expected a JSON object"})
    method = message.get("method")
    if not isinstance(method, str) or not method:
        raise RpcError(INVALID_REQUEST, "Invalid Request", {"reason": "method is required"})
    params = message.get("params", {})
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise RpcError(INVALID_PARAMS, "Invalid params", {"reason": "params must be an object"})
    return message.get("id"), method, params
