"""One signed, rate-limited, time-bounded HTTP exchange with the venue, and the retry loop.

``send_once`` maps every outcome to the error tree: transport failures and 5xx to
``VenueTransportError``, 429 to ``VenueRateLimitedError`` (with ``Retry-After``), 401/403 to
``VenueAuthError``, other non-2xx and unreadable bodies to ``VenueResponseError``.
``send`` retries idempotent requests only; each attempt is re-signed with a fresh JWT.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import attrs
import orjson
import requests

from perpsbot.errors import (
    VenueAuthError,
    VenueError,
    VenueRateLimitedError,
    VenueResponseError,
    VenueTransportError,
)
from perpsbot.ids import seeded_rng
from perpsbot.venue.auth import JwtSigner
from perpsbot.venue.backoff import Backoff
from perpsbot.venue.ratelimit import TokenBucket, VenueRateLimiter

_log = logging.getLogger("perpsbot.venue.rest")

Params = dict[str, str | int | list[str]]

#: Called once per attempt with its outcome: ``ok``, ``rate_limited``, ``auth_error``,
#: ``transport_error`` or ``response_error`` (metrics count REST calls by outcome).
OutcomeHook = Callable[[str], None]


def _outcome(error: VenueError) -> str:
    if isinstance(error, VenueRateLimitedError):
        return "rate_limited"
    if isinstance(error, VenueAuthError):
        return "auth_error"
    if isinstance(error, VenueTransportError):
        return "transport_error"
    return "response_error"


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """How many attempts a retried request gets, and the waits between them.

    ``Retry-After`` is honoured up to ``max_retry_after_s`` (a venue asking for an hour would
    otherwise freeze every caller sharing the budget); without it the backoff applies.
    """

    max_attempts: int = 4
    backoff: Backoff = attrs.field(factory=lambda: Backoff(initial_s=0.25, max_s=8.0, jitter=0.5))
    max_retry_after_s: float = 60.0


def _retry_after_s(value: str | None) -> float | None:
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None  # an HTTP-date; fall back to our own backoff
    return max(0.0, seconds)


def _error_code(body: bytes) -> str:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body[:120].decode("utf-8", "replace").strip()
    if isinstance(data, dict):
        parts = [str(data.get(k)) for k in ("error", "message") if data.get(k)]
        return ": ".join(parts)
    return ""


class HttpTransport:
    """The venue's base URL, session, signer, budget and timeouts (shared by one REST client)."""

    def __init__(
        self,
        *,
        base_url: str,
        signer: JwtSigner | None,
        limiter: VenueRateLimiter,
        session: requests.Session | None = None,
        timeout_s: tuple[float, float] = (3.05, 10.0),
        retry: RetryPolicy | None = None,
        rng: random.Random | None = None,
        wait: Callable[[float], None] | None = None,
        on_outcome: OutcomeHook | None = None,
    ) -> None:
        split = urlsplit(base_url.rstrip("/"))
        if split.scheme not in ("http", "https") or not split.netloc:
            raise ValueError(f"base_url must be an http(s) URL, was {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.host = split.netloc
        self.path_prefix = split.path
        self.signer = signer
        self.limiter = limiter
        self.session = session or requests.Session()
        self.timeout_s = timeout_s
        self.retry = retry or RetryPolicy()
        self.rng = rng or seeded_rng()
        self._wait = wait or limiter.wait
        self._on_outcome = on_outcome

    def wait(self, seconds: float) -> None:
        if seconds > 0:
            self._wait(seconds)

    def send_once(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        body: dict[str, Any] | None = None,
        private: bool = True,
    ) -> Any:
        """One attempt: wait for the budget, sign, send, map the outcome."""
        hook = self._on_outcome
        if hook is None:
            return self._attempt(method, path, params, body, private)
        try:
            result = self._attempt(method, path, params, body, private)
        except VenueError as error:
            hook(_outcome(error))
            raise
        hook("ok")
        return result

    def _attempt(
        self,
        method: str,
        path: str,
        params: Params | None,
        body: dict[str, Any] | None,
        private: bool,
    ) -> Any:
        if private and self.signer is None:
            raise VenueAuthError(f"{method} {path} needs credentials, and none were given")
        bucket: TokenBucket = self.limiter.private if private else self.limiter.public
        bucket.acquire()
        headers = {"Accept": "application/json"}
        if self.signer is not None and private:
            token = self.signer.rest_token(method, self.host, self.path_prefix + path)
            headers["Authorization"] = f"Bearer {token}"
        data = None
        if body is not None:
            data = orjson.dumps(body)
            headers["Content-Type"] = "application/json"
        what = f"{method} {path}"
        try:
            response = self.session.request(
                method,
                self.base_url + path,
                params=params,
                data=data,
                headers=headers,
                timeout=self.timeout_s,
                allow_redirects=False,
            )
            content = response.content
        except requests.Timeout as exc:
            raise VenueTransportError(f"{what} timed out after {self.timeout_s}s: {exc}") from exc
        except requests.RequestException as exc:
            raise VenueTransportError(f"{what} failed in transit: {type(exc).__name__}") from exc
        status = response.status_code
        if status == 429:
            retry_after = _retry_after_s(response.headers.get("Retry-After"))
            raise VenueRateLimitedError(
                f"{what} was rate limited (429, Retry-After={retry_after})",
                retry_after_s=retry_after,
            )
        if status in (401, 403):
            raise VenueAuthError(f"{what} was refused with {status}: {_error_code(content)}")
        if status >= 500:
            raise VenueTransportError(f"{what} failed with {status}: {_error_code(content)}")
        if status >= 300:
            raise VenueResponseError(
                f"{what} must answer 2xx, answered {status}: {_error_code(content)}",
                status=status,
                body=content[:500].decode("utf-8", "replace"),
            )
        try:
            return orjson.loads(content)
        except orjson.JSONDecodeError:
            raise VenueResponseError(
                f"{what} must answer JSON, answered {content[:80]!r}",
                status=status,
                body=content[:500].decode("utf-8", "replace"),
            ) from None

    def backoff_after(self, error: VenueError, attempt: int, private: bool) -> None:
        """Wait before retry ``attempt + 1``; a 429 also puts the shared bucket on hold."""
        delay = self.retry.backoff.delay_s(attempt, self.rng)
        if isinstance(error, VenueRateLimitedError):
            if error.retry_after_s is not None:
                delay = min(error.retry_after_s, self.retry.max_retry_after_s)
            bucket = self.limiter.private if private else self.limiter.public
            bucket.hold_off(delay)
            return  # the next acquire() waits out the hold
        self.wait(delay)

    def send(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        body: dict[str, Any] | None = None,
        private: bool = True,
    ) -> Any:
        """Send an idempotent request, retrying transport failures, 5xx and 429."""
        attempts = self.retry.max_attempts
        for attempt in range(1, attempts + 1):
            try:
                return self.send_once(method, path, params=params, body=body, private=private)
            except (VenueTransportError, VenueRateLimitedError) as exc:
                if attempt == attempts:
                    raise
                _log.warning("%s %s attempt %d/%d failed: %s", method, path, attempt, attempts, exc)
                self.backoff_after(exc, attempt, private)
        raise AssertionError("unreachable: the loop returns or raises")
