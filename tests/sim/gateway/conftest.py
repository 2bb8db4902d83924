"""Fixtures for the simulated Global Derivatives gateway: a started gateway on a stepped sim,
and plain JSON-RPC callers over requests and websocket-client."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
import websocket

from perpsbot.sim import SimExchange
from perpsbot.sim.gateway import GatewayConfig, SimGlobalGateway

TIMEOUT_S = 5.0
BTC = "BTC_USDC-PERPETUAL"
ETH = "ETH_USDC-PERPETUAL"
_ids = itertools.count(1)


class HttpRpc:
    """JSON-RPC over HTTP: ``call`` returns the whole answer (result or error) and status."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        self.token = ""

    def call(self, method: str, **params: Any) -> tuple[int, dict[str, Any]]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        body = {"jsonrpc": "2.0", "id": next(_ids), "method": method, "params": params}
        response = self.session.post(
            f"{self.base_url}/{method}", json=body, headers=headers, timeout=TIMEOUT_S
        )
        return response.status_code, dict(response.json())

    def result(self, method: str, **params: Any) -> Any:
        status, answer = self.call(method, **params)
        assert status == 200, answer
        assert "result" in answer, answer
        return answer["result"]

    def error(self, method: str, **params: Any) -> dict[str, Any]:
        status, answer = self.call(method, **params)
        assert status == 400, answer
        assert "error" in answer, answer
        return dict(answer["error"])

    def login(self) -> None:
        self.token = self.result("public/auth", grant_type="coinbase_cdp", token="jwt")[
            "access_token"
        ]


class WsRpc:
    """JSON-RPC over one WebSocket; notifications met while waiting are kept in order."""

    def __init__(self, url: str) -> None:
        self.ws = websocket.create_connection(url, timeout=TIMEOUT_S)
        self.notices: list[dict[str, Any]] = []

    def send(self, method: str, **params: Any) -> int:
        request_id = next(_ids)
        self.ws.send(
            json.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
        )
        return request_id

    def answer(self, request_id: int) -> dict[str, Any]:
        while True:
            message = self.next_message()
            if message.get("id") == request_id:
                return message
            self.notices.append(message)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        return self.answer(self.send(method, **params))

    def result(self, method: str, **params: Any) -> Any:
        answer = self.call(method, **params)
        assert "result" in answer, answer
        return answer["result"]

    def next_message(self) -> dict[str, Any]:
        text = self.ws.recv()
        if not text:  # websocket-client answers a close frame and returns ""
            raise websocket.WebSocketConnectionClosedException("the gateway closed the socket")
        return dict(json.loads(text))

    def notice(self, channel: str, where: Callable[[Any], bool] = lambda data: True) -> Any:
        """The data of the first notification on ``channel`` that ``where`` accepts."""
        for i, message in enumerate(self.notices):
            params = message.get("params", {})
            if params.get("channel") == channel and where(params.get("data")):
                del self.notices[i]
                return params["data"]
        while True:
            message = self.next_message()
            params = message.get("params", {})
            if params.get("channel") == channel and where(params.get("data")):
                return params["data"]
            self.notices.append(message)

    def close(self) -> None:
        self.ws.close()
        self.ws.shutdown()  # close() leaves the socket open when the peer already hung up


LENIENT = GatewayConfig(credit_pool=10**9, matching_burst=10**6, min_heartbeat_s=0.05)


@pytest.fixture
def make_gateway(
    make_sim: Callable[..., SimExchange],
) -> Iterator[Callable[..., SimGlobalGateway]]:
    started: list[SimGlobalGateway] = []

    def make(config: GatewayConfig = LENIENT, **sim_overrides: Any) -> SimGlobalGateway:
        gateway = SimGlobalGateway(make_sim(**sim_overrides), config).start()
        started.append(gateway)
        return gateway

    yield make
    for gateway in started:
        gateway.stop()


@pytest.fixture
def gateway(sim: SimExchange) -> Iterator[SimGlobalGateway]:
    """The gateway on the stepped ``sim`` (step it to move both faces)."""
    with SimGlobalGateway(sim, LENIENT) as started:
        yield started


@pytest.fixture
def rpcs() -> Iterator[Callable[[str], HttpRpc]]:
    """HTTP callers, each closed at teardown."""
    opened: list[HttpRpc] = []

    def open_(url: str) -> HttpRpc:
        caller = HttpRpc(url)
        opened.append(caller)
        return caller

    yield open_
    for caller in opened:
        caller.session.close()


@pytest.fixture
def rpc(gateway: SimGlobalGateway, rpcs: Callable[[str], HttpRpc]) -> HttpRpc:
    caller = rpcs(gateway.http_url)
    caller.login()
    return caller


@pytest.fixture
def sockets() -> Iterator[Callable[[str], WsRpc]]:
    opened: list[WsRpc] = []

    def open_(url: str) -> WsRpc:
        caller = WsRpc(url)
        opened.append(caller)
        return caller

    yield open_
    for caller in opened:
        caller.close()
