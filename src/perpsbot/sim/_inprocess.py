"""The exchange's brokerage API without a socket: a ``requests`` transport adapter that hands
each request to the same code the HTTP server runs (:func:`~perpsbot.sim._rest.answer_api`).

The client's own code runs unchanged above it (signing, rate budget, retries, parsing); only
the loopback socket and the HTTP framing are skipped, which is most of a request's cost. A
backtest uses it. The HTTP face's faults (delays, injected errors, lost answers, resets) and
its control routes are not served here.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from perpsbot.sim._auth import JwtVerifier
from perpsbot.sim._engine import SimEngine
from perpsbot.sim._ratelimit import ServerRateLimits
from perpsbot.sim._rest import answer_api
from perpsbot.sim._wire import dumps, error_body

__all__ = ["InProcessAdapter"]

_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found"}


class InProcessAdapter(BaseAdapter):
    """Mount on a ``requests.Session`` for the exchange's REST base URL."""

    def __init__(
        self, *, engine: SimEngine, limits: ServerRateLimits, verifier: JwtVerifier
    ) -> None:
        super().__init__()
        self._engine = engine
        self._limits = limits
        self._verifier = verifier

    def send(  # noqa: PLR0917 (requests calls it so)
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        method = request.method or "GET"
        url = urlsplit(request.url or "")
        raw = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
        status, payload, headers = answer_api(
            self._engine, self._limits, self._verifier,
            method=method, path=url.path, query=parse_qs(url.query, keep_blank_values=True),
            raw=raw, authorization=request.headers.get("Authorization"), host=url.netloc,
        )  # fmt: skip
        if payload is None and status != 429:
            payload = error_body("INTERNAL", "no answer")
        body = b"" if status == 429 else dumps(payload)
        response = requests.Response()
        response.status_code = status
        response.reason = _REASONS.get(status, "")
        response.headers = CaseInsensitiveDict(
            {"Content-Type": "application/json", "Content-Length": str(len(body)), **headers}
        )
        response.raw = io.BytesIO(body)
        response.url = request.url or ""
        response.request = request
        return response

    def close(self) -> None:
        """Nothing to release: no connection is held."""
