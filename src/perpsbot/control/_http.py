"""Metrics and health over HTTP on loopback: ``/metrics``, ``/healthz``, ``/readyz``.

``/metrics`` is Prometheus' text format. ``/healthz`` answers 200 while the process makes
progress and 503 when it should be restarted; ``/readyz`` answers 200 only when the bot is
also fit to trade (fresh marks; later, reconciliation done). Both carry a JSON body
(``{"live": ..., "ready": ..., "problems": [...]}``). Each request is served on a thread of
its own, a few at a time, so a client that stalls delays no probe; a request that fails is
one log line, never a traceback on stderr.
"""

from __future__ import annotations

import logging
import socket
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

import msgspec
from prometheus_client import CollectorRegistry, make_wsgi_app

from perpsbot.control._health import Health
from perpsbot.control._listener import Listener
from perpsbot.errors import ControlPlaneError

__all__ = ["HOST", "MetricsServer"]

logger = logging.getLogger("perpsbot.control.http")

HOST = "127.0.0.1"
_REQUEST_TIMEOUT_S = 5.0
_CONCURRENT_REQUESTS = 4  # more wait for one to end (each ends within its timeout)
StartResponse = Callable[..., Any]


class _QuietHandler(WSGIRequestHandler):
    """No access log on stderr: a scrape every few seconds is not news."""

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s " + format, self.address_string(), *args)


class _Server(WSGIServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that stalled or hung up: one line, not socketserver's traceback on stderr.
        logger.debug("a request from %s failed: %r", client_address, sys.exc_info()[1])


class MetricsServer:
    """Serves ``registry`` and the health verdict on ``127.0.0.1:port`` (0: any free port).

    Args:
        registry: the collectors ``/metrics`` shows.
        health: judges health for ``/healthz`` and ``/readyz`` (called per request).
        port: the TCP port; :attr:`port` holds the bound one after :meth:`start`.
        request_timeout_s: how long a client may take to send its request.
    """

    def __init__(
        self,
        registry: CollectorRegistry,
        *,
        health: Callable[[], Health],
        port: int = 0,
        request_timeout_s: float = _REQUEST_TIMEOUT_S,
    ) -> None:
        self._metrics = make_wsgi_app(registry)
        self._health = health
        self.port = port
        self._request_timeout_s = request_timeout_s
        self._slots = threading.BoundedSemaphore(_CONCURRENT_REQUESTS)
        self._server: WSGIServer | None = None
        self._listener: Listener | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> None:
        """Bind and start serving.

        Raises:
            ControlPlaneError: the port is taken or cannot be bound.
        """
        try:
            server = _Server((HOST, self.port), _QuietHandler)
        except OSError as error:
            raise ControlPlaneError(
                f"the metrics endpoint could not listen on {HOST}:{self.port}: {error};"
                " choose another control.metrics_port (0: any free port)"
            ) from error
        server.set_app(self._app)
        self._server = server
        self.port = server.server_address[1]
        self._listener = Listener(server.socket, self._serve_one, name="perpsbot-metrics")
        self._listener.start()

    def close(self) -> None:
        if self._listener is not None:
            self._listener.close()
        if self._server is not None:
            self._server.server_close()

    def __enter__(self) -> MetricsServer:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _serve_one(self, connection: socket.socket, address: Any) -> None:
        self._slots.acquire()
        connection.settimeout(self._request_timeout_s)
        threading.Thread(
            target=self._serve,
            args=(connection, address),
            name="perpsbot-metrics-request",
            daemon=True,
        ).start()

    def _serve(self, connection: socket.socket, address: Any) -> None:
        server = self._server
        assert server is not None
        try:
            server.finish_request(connection, address)
        except Exception:
            # What socketserver's own loop does: its handle_error, here one debug line.
            server.handle_error(connection, address)
        finally:
            server.shutdown_request(connection)
            self._slots.release()

    def _app(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            return self._route(environ, start_response)
        except Exception:
            # A collector or a check with a bug: logged, answered 500; the endpoint stays up.
            logger.exception("serving %s failed", environ.get("PATH_INFO"))
            start_response(
                "500 Internal Server Error",
                [("Content-Type", "text/plain; charset=utf-8")],
                sys.exc_info(),
            )
            return [b"internal error: see the bot's log\n"]

    def _route(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "/")
        if path == "/metrics":
            body: Iterable[bytes] = self._metrics(environ, start_response)
            return body
        if path in ("/healthz", "/readyz"):
            health = self._health()
            ok = health.live if path == "/healthz" else health.ready
            return _json(start_response, 200 if ok else 503, health.as_json())
        if path == "/":
            text = b"perpsbot: /metrics (Prometheus), /healthz (live), /readyz (ready)\n"
            start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
            return [text]
        start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
        return [b"not found: try /metrics, /healthz or /readyz\n"]


def _json(start_response: StartResponse, status: int, body: dict[str, Any]) -> list[bytes]:
    reason = "OK" if status == 200 else "Service Unavailable"
    start_response(f"{status} {reason}", [("Content-Type", "application/json")])
    return [msgspec.json.encode(body) + b"\n"]
