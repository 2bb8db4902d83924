"""One request in, one answer out (or none): the part the HTTP and WebSocket faces share."""

from __future__ import annotations

import logging
from typing import Any

import attrs

from perpsbot.sim.gateway import _rpc as rpc
from perpsbot.sim.gateway._api import GatewayApi, Session
from perpsbot.sim.gateway._faults import GatewayFaults

_log = logging.getLogger("perpsbot.sim.gateway")


@attrs.frozen(kw_only=True)
class Reply:
    """``answer`` to send (None: lost), and whether the session ends after it."""

    answer: dict[str, Any] | None
    close: bool = False
    method: str = ""


def respond(
    api: GatewayApi, faults: GatewayFaults, session: Session, raw: bytes | str, *, bearer: str = ""
) -> Reply:
    """The answer to one raw request (delays are the caller's, before this call)."""
    us_in = api.engine.now_ns() // 1000
    request_id: object = None
    try:
        try:
            message = rpc.decode(raw)
        except (ValueError, RecursionError):  # msgspec.DecodeError is a ValueError
            raise rpc.RpcError(rpc.PARSE_ERROR, "Parse error") from None
        if isinstance(message, dict):
            request_id = message.get("id")
        request_id, method, params = rpc.parse_request(message)
        api.count_request(method)
        if faults.take_rate_limited(method):
            raise rpc.RpcError(rpc.TOO_MANY_REQUESTS, "too_many_requests")
        if faults.take_refused(method):
            raise rpc.RpcError(rpc.INTERNAL_SERVER_ERROR, "internal_server_error")
        if contracts := faults.take_twin(method):
            _place_twin(api, session, method, params, contracts=contracts, bearer=bearer)
        result = api.call(session, method, params, bearer=bearer)
    except rpc.RpcError as error:
        close = error.code == rpc.TOO_MANY_REQUESTS  # the venue ends the session (1.11)
        return Reply(answer=rpc.error_answer(request_id, error), close=close)
    if faults.take_lost(method):
        _log.warning("sim gateway fault: %s carried out, its answer lost", method)
        return Reply(answer=None, close=session.host == "http", method=method)
    us_out = api.engine.now_ns() // 1000
    return Reply(answer=rpc.answer(request_id, result, us_in=us_in, us_out=us_out), method=method)


def _place_twin(
    api: GatewayApi,
    session: Session,
    method: str,
    params: dict[str, Any],
    *,
    contracts: int,
    bearer: str,
) -> None:
    """A stranger's market order with the request's label, instrument and side, first."""
    twin = {
        "instrument_name": params.get("instrument_name"),
        "contracts": contracts,
        "type": "market",
        "label": params.get("label", ""),
    }
    try:
        api.call(session, method, twin, bearer=bearer)
    except rpc.RpcError as error:
        _log.warning("sim gateway fault: the duplicate label's order was refused: %s", error)
    else:
        _log.warning("sim gateway fault: a stranger's order carries label %r", twin["label"])
