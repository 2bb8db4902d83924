"""Metrics and health over HTTP on loopback: ``/metrics``, ``/healthz``, ``/readyz``.

``/metrics`` is Prometheus' text format. ``/healthz`` answers 200 while the process makes
progress and 503 when it should be restarted; ``/readyz`` answers 200 only when the bot is
also fit to trade (fresh marks; later, reconciliation done). Both carry a JSON body
(``{"live": ..., "ready": ..., "problems": [...]}``). Requests are served one at a time on
the listener's thread: scrapes and probes are short and come from this host only.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

import orjson
from prometheus_client import CollectorRegistry, make_wsgi_app

from perpsbot.control._health import Health
from perpsbot.control._listener import Listener
from perpsbot.errors import ControlPlaneError

__all__ = ["HOST", "MetricsServer"]

logger = logging.getLogger("perpsbot.control.http")

HOST = "127.0.0.1"
_REQUEST_TIMEOUT_S = 5.0
StartResponse = Callable[..., Any]


class _QuietHandler(WSGIRequestHandler):
    """No access log on stderr: a scrape every few seconds is not news."""

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s " + format, self.address_string(), *args)


class MetricsServer:
    """Serves ``registry`` and the health verdict on ``127.0.0.1:port`` (0: any free port).

    Args:
        registry: the collectors ``/metrics`` shows.
        health: judges health for ``/healthz`` and ``/readyz`` (called per request).
        port: the TCP port; :attr:`port` holds the bound one after :meth:`start`.
    """

    def __init__(
        self, registry: CollectorRegistry, *, health: Callable[[], Health], port: int = 0
    ) -> None:
        self._metrics = make_wsgi_app(registry)
        self._health = health
        self.port = port
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
            server = WSGIServer((HOST, self.port), _QuietHandler)
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
        assert self._server is not None
        connection.settimeout(_REQUEST_TIMEOUT_S)
        self._server.process_request(connection, address)

    def _app(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
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
    return [orjson.dumps(body) + b"\n"]
