"""The exchange's brokerage API without a socket: the same code the HTTP server runs
(:func:`~perpsbot.sim._rest.answer_api`), answered in this process.

Two ways in. :class:`InProcessApi` is a REST client's ``direct`` API (a backtest's): the
client's budget, retries and parsing run, with no HTTP framing and no signature unless the
exchange checks them. :class:`InProcessAdapter` is a ``requests`` transport adapter: the
client's whole code runs unchanged above it (signing, ``requests``), only the loopback socket
is skipped. The HTTP face's faults (delays, injected errors, lost answers, resets) and its
control routes are served by neither.
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
from perpsbot.sim._queries import Query
from perpsbot.sim._ratelimit import ServerRateLimits
from perpsbot.sim._rest import answer_api
from perpsbot.sim._wire import dumps, error_body

__all__ = ["InProcessAdapter", "InProcessApi"]

_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found"}


class InProcessApi:
    """The exchange's API for a REST client's ``direct`` (``perpsbot.venue.DirectApi``)."""

    def __init__(
        self, *, engine: SimEngine, limits: ServerRateLimits, verifier: JwtVerifier
    ) -> None:
        self._engine = engine
        self._limits = limits
        self._verifier = verifier

    @property
    def checks_signatures(self) -> bool:
        return self._verifier.enabled

    def answer(
        self,
        method: str,
        path: str,
        *,
        query: Query,
        body: bytes,
        authorization: str | None,
        host: str,
    ) -> tuple[int, Mapping[str, str], bytes]:
        status, payload, headers = answer_api(
            self._engine, self._limits, self._verifier,
            method=method, path=path, query=query,
            raw=body, authorization=authorization, host=host,
        )  # fmt: skip
        if payload is None and status != 429:
            payload = error_body("INTERNAL", "no answer")
        return status, headers, b"" if status == 429 else dumps(payload)


class InProcessAdapter(BaseAdapter):
    """Mount on a ``requests.Session`` for the exchange's REST base URL."""

    def __init__(
        self, *, engine: SimEngine, limits: ServerRateLimits, verifier: JwtVerifier
    ) -> None:
        super().__init__()
        self._api = InProcessApi(engine=engine, limits=limits, verifier=verifier)

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
        status, headers, body = self._api.answer(
            method, url.path, query=parse_qs(url.query, keep_blank_values=True),
            body=raw, authorization=request.headers.get("Authorization"), host=url.netloc,
        )  # fmt: skip
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
