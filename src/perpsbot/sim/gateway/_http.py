"""The gateway's HTTP face: ``POST /api/v2/<method>`` with a JSON-RPC body.

Results answer 200; errors answer 400 with the JSON-RPC error object (Deribit's HTTP API
answers its errors so; the client reads the error object whatever the status). A lost answer
closes the connection without a response.
"""

from __future__ import annotations

import logging
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from perpsbot.sim.gateway import _rpc as rpc
from perpsbot.sim.gateway._api import HTTP, GatewayApi, Session
from perpsbot.sim.gateway._faults import GatewayFaults
from perpsbot.sim.gateway._requests import respond

PREFIX = "/api/v2/"
_log = logging.getLogger("perpsbot.sim.gateway.http")


class GatewayHttpServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(
        self,
        address: tuple[str, int],
        *,
        api: GatewayApi,
        faults: GatewayFaults,
        stopping: threading.Event,
    ) -> None:
        self.api = api
        self.faults = faults
        self.stopping = stopping
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], OSError):
            _log.debug("sim gateway HTTP connection from %s ended", client_address)
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: GatewayHttpServer
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, a keep-alive client waits out a
    # delayed ACK (~40 ms) on every response, as on the REST face.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        _log.debug(format, *args)

    def do_POST(self) -> None:
        server = self.server
        length = int(self.headers.get("Content-Length") or 0)
        if length > server.api.config.max_request_bytes:
            self._send(413, {"error": {"code": rpc.INVALID_REQUEST, "message": "too large"}})
            return
        body = self.rfile.read(length)
        if not self.path.startswith(PREFIX):
            self._send(404, {"error": {"code": rpc.METHOD_NOT_FOUND, "message": "not found"}})
            return
        delay_s = server.faults.take_delay_s()
        if delay_s > 0:
            server.stopping.wait(delay_s)
        method = self.path[len(PREFIX) :].split("?", 1)[0]
        try:
            message = rpc.decode(body) if body else {}
        except ValueError:
            message = None
        if isinstance(message, dict):
            message = {"jsonrpc": "2.0", "id": message.get("id"), **message, "method": method}
            raw: bytes = rpc.encode(message)
        else:
            raw = body
        bearer = self.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        reply = respond(server.api, server.faults, Session(host=HTTP), raw, bearer=bearer)
        if reply.answer is None:
            self.close_connection = True
            return
        self._send(400 if "error" in reply.answer else 200, reply.answer)

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = rpc.encode(body)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
