"""A loopback HTTP server answering canned responses, recording every request it got."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import attrs


@attrs.frozen
class Canned:
    status: int
    body: bytes
    headers: dict[str, str] = attrs.Factory(dict)


@attrs.frozen
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


class CannedServer:
    """``answer(method, path, *responses)`` queues responses; the last one repeats."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._routes: dict[tuple[str, str], list[Canned]] = {}
        self.seen: list[Seen] = []
        self.base_url = ""

    def answer(self, method: str, path: str, *responses: Canned) -> None:
        with self._lock:
            self._routes[(method, path)] = list(responses)

    def take(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> Canned:
        split = urlsplit(raw_path)
        with self._lock:
            self.seen.append(Seen(method, split.path, parse_qs(split.query), headers, body))
            queue = self._routes.get((method, split.path))
            if not queue:
                return Canned(404, b'{"error":"NOT_FOUND","message":"no canned answer"}')
            return queue.pop(0) if len(queue) > 1 else queue[0]


@contextmanager
def canned_server() -> Iterator[CannedServer]:
    canned = CannedServer()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            answer = canned.take(self.command, self.path, dict(self.headers.items()), body)
            self.send_response(answer.status)
            for key, value in answer.headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        do_GET = _serve  # noqa: N815
        do_POST = _serve  # noqa: N815
        do_CONNECT = _serve  # noqa: N815  (as a proxy: a tunnel asked for is recorded)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01})
    thread.start()
    canned.base_url = f"http://127.0.0.1:{server.server_address[1]}/api/v3/brokerage"
    try:
        yield canned
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
