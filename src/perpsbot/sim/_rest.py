"""The REST face: a threaded stdlib HTTP/1.1 server on loopback, plus the ``/_sim`` control API."""

from __future__ import annotations

import contextlib
import logging
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import msgspec

from perpsbot.errors import InvalidConfigError
from perpsbot.sim._auth import JwtVerifier
from perpsbot.sim._engine import SimEngine
from perpsbot.sim._fault_params import Steps, convert
from perpsbot.sim._faults import SimFaults
from perpsbot.sim._queries import ApiError, Query
from perpsbot.sim._ratelimit import ServerRateLimits
from perpsbot.sim._routes import resolve
from perpsbot.sim._wire import dumps, error_body

API_PREFIX = "/api/v3/brokerage"
_log = logging.getLogger("perpsbot.sim.rest")
_UNAUTHORIZED = {"error": "UNAUTHORIZED", "code": 16, "message": "Unauthorized"}


class RestServer(ThreadingHTTPServer):
    """Serves the brokerage API; one thread per connection, all sharing the engine's lock."""

    daemon_threads = True
    block_on_close = False  # stop() joins handler threads itself, with a deadline
    request_queue_size = 64  # a bot reconnecting many sessions at once should not see refusals

    def __init__(
        self,
        address: tuple[str, int],
        *,
        engine: SimEngine,
        faults: SimFaults,
        verifier: JwtVerifier,
        limits: ServerRateLimits,
        stopping: threading.Event,
    ) -> None:
        self.engine = engine
        self.faults = faults
        self.verifier = verifier
        self.limits = limits
        self.stopping = stopping
        self._open: dict[socket.socket, threading.Thread] = {}
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Peers that hang up (or faults that hang up on them) are routine: log, don't print."""
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError):
            _log.debug("sim REST connection from %s ended: %r", client_address, exc)
            return
        super().handle_error(request, client_address)

    def track(self, sock: socket.socket, *, alive: bool) -> None:
        with self._open_lock:
            if alive:
                self._open[sock] = threading.current_thread()
            else:
                self._open.pop(sock, None)

    def close_open_connections(self, timeout_s: float) -> None:
        """Shut keep-alive sockets and join their handler threads, within about ``timeout_s``."""
        with self._open_lock:
            open_now = dict(self._open)
        for sock in open_now:
            # OSError: already closed by the peer, nothing left to shut.
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in open_now.values():
            thread.join(timeout_s / max(1, len(open_now)))
            if thread.is_alive():
                _log.warning("sim REST handler %s did not end in time", thread.name)


def json_object(raw: bytes) -> dict[str, Any]:
    """A request's JSON body; raises a 400 ``ApiError`` for anything but one JSON object."""
    try:
        body = msgspec.json.decode(raw or b"{}")
    except (msgspec.DecodeError, RecursionError) as exc:  # too deep: refused too
        raise ApiError(400, error_body("INVALID_ARGUMENT", f"body is not JSON: {exc}")) from exc
    if not isinstance(body, dict):
        raise ApiError(400, error_body("INVALID_ARGUMENT", "body must be a JSON object"))
    return body


def answer_api(
    engine: SimEngine,
    limits: ServerRateLimits,
    verifier: JwtVerifier,
    *,
    method: str,
    path: str,
    query: Query,
    raw: bytes,
    authorization: str | None,
    host: str,
) -> tuple[int, Any, dict[str, str]]:
    """One brokerage API request (``path`` under :data:`API_PREFIX`), whatever carried it:
    the route, the rate limit, the signature, the funding due, the engine's answer. Returns
    the status, the JSON payload (None for a 429) and the rate-limit headers. A handler that
    fails is answered 500 (``INTERNAL``, naming the error), as a real server answers its own
    bug: over HTTP and in this process alike, the client sees its retried server error."""
    try:
        handler, match, public = resolve(method, path[len(API_PREFIX) :])
        allowed, headers = limits.admit(public=public)
        if not allowed:
            return 429, None, headers
        if not public:
            why = verifier.check_rest(authorization, method, host, path)
            if why is not None:
                _log.info("sim rejected %s %s: %s", method, path, why)
                return 401, _UNAUTHORIZED, headers
        body = json_object(raw) if method == "POST" else {}
        engine.catch_up()  # the funding due by now, before it is read or traded
        return 200, handler(engine, match, query, body), headers
    except ApiError as exc:
        return exc.status, exc.body, {}
    except Exception as exc:  # any bug of the exchange's: a 500, logged, never a hang-up
        _log.exception("sim failed to answer %s %s", method, path)
        return 500, error_body("INTERNAL", f"{type(exc).__name__}: {exc}"), {}


class _Handler(BaseHTTPRequestHandler):
    server: RestServer
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, a keep-alive client waits out a
    # delayed ACK (~40 ms) on every response.
    disable_nagle_algorithm = True
    server_version = "perpsbot-sim"

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, alive=True)

    def finish(self) -> None:
        self.server.track(self.connection, alive=False)
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        _log.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query, keep_blank_values=True)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if url.path.startswith("/_sim/"):
            self._control(method, url.path, raw)
            return
        if not url.path.startswith(API_PREFIX + "/"):
            self._send(404, error_body("NOT_FOUND", f"no route for {method} {url.path}"))
            return
        sub = url.path[len(API_PREFIX) :]
        delay_s = self.server.faults.take_delay_s()
        if delay_s > 0:
            self.server.stopping.wait(delay_s)
        rule = self.server.faults.take_http_error(sub)
        if rule is not None:
            headers = (
                {"Retry-After": f"{rule.retry_after_s:g}"} if rule.retry_after_s is not None else {}
            )
            if rule.body is not None:
                self._send_raw(rule.status, rule.body.encode(), "text/html", headers)
            elif rule.status == 429:
                self._send_raw(rule.status, b"", "text/plain", headers)
            else:
                self._send(rule.status, error_body("INTERNAL", "injected fault"), headers)
            return
        server = self.server
        status, payload, headers = answer_api(
            server.engine, server.limits, server.verifier,
            method=method, path=url.path, query=query, raw=raw,
            authorization=self.headers.get("Authorization"), host=self.headers.get("Host", ""),
        )  # fmt: skip
        if status == 429:
            self._send_raw(429, b"", "text/plain", headers)
            return
        if status != 200:
            self._send(status, payload, headers)
            return
        if method == "POST" and sub == "/orders" and self.server.faults.take_lost_ack():
            _log.warning("sim fault: dropping the ack of POST /orders")
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if self.server.faults.take_reset():
            self._send_half(method, url.path, dumps(payload))
            return
        self._send(200, payload, headers)

    def _send_half(self, method: str, path: str, body: bytes) -> None:
        _log.warning("sim fault: resetting %s %s mid-body", method, path)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2])
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)

    def _json(self, raw: bytes) -> dict[str, Any]:
        return json_object(raw)

    def _control(self, method: str, path: str, raw: bytes) -> None:
        faults = self.server.faults
        try:
            if path == "/_sim/faults" and method == "POST":
                faults.apply(self._json(raw))
                self._send(200, {"ok": True})
            elif path == "/_sim/faults" and method == "GET":
                log = [
                    {"kind": r.kind, "detail": r.detail, "time_ns": r.time_ns} for r in faults.log
                ]
                self._send(200, {"faults": log})
            elif path == "/_sim/faults" and method == "DELETE":
                faults.clear()
                self._send(200, {"ok": True})
            elif path == "/_sim/step" and method == "POST":
                steps = convert(self._json(raw).get("n", 1), Steps, "step.n")
                for _ in range(steps):
                    self.server.engine.step()
                self._send(200, {"ok": True, "steps": self.server.engine.steps})
            else:
                self._send(404, error_body("NOT_FOUND", f"no control route {method} {path}"))
        except ApiError as exc:
            self._send(exc.status, exc.body)
        except (InvalidConfigError, TypeError, ValueError) as exc:
            self._send(400, error_body("INVALID_ARGUMENT", str(exc)))

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        self._send_raw(status, dumps(payload), "application/json", headers or {})

    def _send_raw(self, status: int, body: bytes, ctype: str, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
