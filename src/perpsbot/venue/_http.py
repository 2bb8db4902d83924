"""One signed, rate-limited, time-bounded HTTP exchange with the venue, and the retry loop.

``send_once`` maps every outcome to the error tree: transport failures and 5xx to
``VenueTransportError``, 429 to ``VenueRateLimitedError`` (with ``Retry-After``), 401/403 to
``VenueAuthError``, other non-2xx and unreadable bodies to ``VenueResponseError``.
``send`` retries idempotent requests only; each attempt is re-signed with a fresh JWT.

Every call ends by one deadline, ``timeout_s`` from its start, whatever happens within it:
the wait for the shared budget, each attempt (connect, send and the whole body, however the
server paces its bytes: see :mod:`._deadline`) and the waits between retries. A retry that
would not fit is not made. Each answer is read up to ``max_response_bytes``; a 429 holds the
shared budget for at most ``RetryPolicy.max_retry_after_s``. An actor that calls in a
handler bounds a batch of calls by a scope of its own (:meth:`HttpTransport.scope`) and
derives its hang timeout from ``timeout_s``.
"""

from __future__ import annotations

import contextlib
import logging
import random
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import attrs
import msgspec
import requests
import urllib3

from perpsbot.backoff import Backoff
from perpsbot.clock import Clock
from perpsbot.errors import (
    InvalidConfigError,
    VenueAuthError,
    VenueError,
    VenueRateLimitedError,
    VenueResponseError,
    VenueTransportError,
)
from perpsbot.ids import seeded_rng
from perpsbot.token_bucket import TokenBucket
from perpsbot.venue._answer import mapped_answer
from perpsbot.venue._deadline import Deadline, DeadlineAdapter, within
from perpsbot.venue._direct import DirectApi, query_of
from perpsbot.venue._environment import read_environment
from perpsbot.venue.auth import JwtSigner
from perpsbot.venue.ratelimit import VenueRateLimiter

_log = logging.getLogger("perpsbot.venue.rest")

Params = dict[str, str | int | list[str]]

#: The largest answer read (8 MiB): the venue's largest pages (250 products, 250 fills) are a
#: few hundred KiB; anything far larger is a fault, and is refused before it fills memory.
MAX_RESPONSE_BYTES = 8 * 1024 * 1024
_READ_CHUNK = 65536

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

    ``Retry-After`` is honoured up to ``max_retry_after_s``: the shared budget is held that
    long, so a venue asking for an hour cannot freeze every caller sharing it. Without a
    ``Retry-After`` (or with a malformed one: not a number, negative, nan or inf) the
    backoff applies. All attempts and waits of one call end within the transport's
    ``timeout_s``: a call that has no time left for its next attempt gives up.
    """

    max_attempts: int = 4
    backoff: Backoff = attrs.field(factory=lambda: Backoff(initial_s=0.25, max_s=8.0, jitter=0.5))
    max_retry_after_s: float = 5.0


#: The longest timeout a client takes (the configuration's ``venue.request_timeout_s`` has the
#: same bound): socket timeouts overflow long before a float does.
MAX_TIMEOUT_S = 300.0


class HttpTransport:
    """The venue's base URL, session, signer, budget and deadlines (shared by one REST client).

    Each call, its retries and every wait included, ends within ``timeout_s``, however the
    server paces its bytes, and no answer is read past ``max_response_bytes``. ``encode`` and
    ``decode`` turn bodies into bytes and back (a venue whose numbers are JSON numbers passes
    its own, so Decimals never go through float). With ``direct``, requests go to an exchange
    in this process instead of over HTTP (see :mod:`._direct`). The environment's proxies, CA
    bundle and ``.netrc`` are read once, here (see :mod:`._environment`).
    """

    def __init__(
        self,
        *,
        base_url: str,
        signer: JwtSigner | None,
        limiter: VenueRateLimiter,
        clock: Clock,
        session: requests.Session | None = None,
        timeout_s: float = 10.0,
        connect_timeout_s: float = 3.05,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
        retry: RetryPolicy | None = None,
        rng: random.Random | None = None,
        wait: Callable[[float], None] | None = None,
        on_outcome: OutcomeHook | None = None,
        encode: Callable[[Any], bytes] = msgspec.json.encode,
        decode: Callable[[bytes], Any] = msgspec.json.decode,
        direct: DirectApi | None = None,
    ) -> None:
        split = urlsplit(base_url.rstrip("/"))
        if split.scheme not in ("http", "https") or not split.netloc:
            raise InvalidConfigError(
                f"RestClient base_url must be an http(s) URL, was {base_url!r}"
            )
        for name, value in (("timeout_s", timeout_s), ("connect_timeout_s", connect_timeout_s)):
            if not 0 < value <= MAX_TIMEOUT_S:  # NaN fails too
                raise InvalidConfigError(
                    f"RestClient {name} must be a positive number of seconds at most "
                    f"{MAX_TIMEOUT_S:g}, was '{value}'"
                )
        self.base_url = base_url.rstrip("/")
        self.host = split.netloc
        self.path_prefix = split.path
        self.signer = signer
        self.limiter = limiter
        self.clock = clock
        self.session = session or requests.Session()
        self._environment = read_environment(self.session, self.base_url)
        adapter = DeadlineAdapter()
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.timeout_s = timeout_s
        self.connect_timeout_s = connect_timeout_s
        self.max_response_bytes = max_response_bytes
        self.retry = retry or RetryPolicy()
        self.rng = rng or seeded_rng()
        self._wait = wait or limiter.wait
        self._scope: Deadline | None = None
        self._on_outcome = on_outcome
        self._encode = encode
        self._decode = decode
        self._direct = direct

    def deadline(self) -> Deadline:
        """An exchange's deadline: ``timeout_s`` from now, or the enclosing scope's if sooner."""
        at_s = self.clock.monotonic() + self.timeout_s
        if self._scope is not None:
            at_s = min(at_s, self._scope.at_s)
        return Deadline(self.clock, at_s)

    def fits(self, wait_s: float) -> bool:
        """Whether waiting ``wait_s`` still leaves time in the enclosing scope (if any)."""
        return self._scope is None or wait_s < self._scope.remaining_s()

    @contextlib.contextmanager
    def scope(self, seconds: float) -> Iterator[None]:
        """Every call in the block ends within ``seconds`` from now, all of them together."""
        outer = self._scope
        inner = Deadline(self.clock, self.clock.monotonic() + seconds)
        self._scope = inner if outer is None or inner.at_s < outer.at_s else outer
        try:
            yield
        finally:
            self._scope = outer

    def send_once(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        body: dict[str, Any] | None = None,
        private: bool = True,
    ) -> Any:
        """One attempt: wait for the budget, then sign, send, read and map the outcome, all
        within ``timeout_s`` (or the enclosing scope, if it ends sooner)."""
        with self.scope(self.timeout_s):
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
        what = f"{method} {path}"
        bucket: TokenBucket = self.limiter.private if private else self.limiter.public
        scope = self._scope
        assert scope is not None  # send_once opened the call's
        if bucket.acquire_within(scope.remaining_s()) is None:
            held_s = bucket.free_in_s()
            raise VenueRateLimitedError(
                f"{what} must get a slot of the {bucket.name} budget before its deadline, "
                f"and the budget is booked for {held_s:.1f}s more",
                retry_after_s=held_s,
            )
        if self._direct is not None:
            return self._answer_directly(method, path, params, body, private=private)
        deadline = self.deadline()
        headers = {"Accept": "application/json"}
        if self.signer is not None and private:
            token = self.signer.rest_token(method, self.host, self.path_prefix + path)
            headers["Authorization"] = f"Bearer {token}"
        data = None
        if body is not None:
            data = self._encode(body)
            headers["Content-Type"] = "application/json"
        left_s = deadline.remaining_s()
        if left_s <= 0:
            raise VenueTransportError(f"{what} has no time left before its deadline")
        try:
            with within(deadline):
                response = self.session.request(
                    method,
                    self.base_url + path,
                    params=params,
                    data=data,
                    headers=headers,
                    timeout=(min(self.connect_timeout_s, left_s), left_s),
                    allow_redirects=False,
                    stream=True,
                    proxies=self._environment.proxies,
                    verify=self._environment.verify,
                    auth=self._environment.auth,
                )
                try:
                    content = self._read_body(response, what)
                finally:
                    response.close()
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            if deadline.remaining_s() <= 0:
                raise VenueTransportError(
                    f"{what} must complete within its deadline ({self.timeout_s}s), did not"
                ) from exc
            if isinstance(exc, requests.Timeout):
                raise VenueTransportError(f"{what} timed out: {exc}") from exc
            raise VenueTransportError(f"{what} failed in transit: {type(exc).__name__}") from exc
        return mapped_answer(what, response.status_code, response.headers, content, self._decode)

    def _answer_directly(
        self,
        method: str,
        path: str,
        params: Params | None,
        body: dict[str, Any] | None,
        *,
        private: bool,
    ) -> Any:
        """One attempt handed to an exchange in this process: signed only if it checks
        signatures, no HTTP framing, the same mapping of its answer."""
        direct = self._direct
        assert direct is not None  # _attempt hands over only then
        what = f"{method} {path}"
        authorization = None
        if self.signer is not None and private and direct.checks_signatures:
            token = self.signer.rest_token(method, self.host, self.path_prefix + path)
            authorization = f"Bearer {token}"
        status, headers, content = direct.answer(
            method,
            self.path_prefix + path,
            query=query_of(params),
            body=b"" if body is None else self._encode(body),
            authorization=authorization,
            host=self.host,
        )
        if len(content) > self.max_response_bytes:
            raise VenueResponseError(
                f"{what} must answer at most {self.max_response_bytes} bytes, sent more",
                status=status,
            )
        return mapped_answer(what, status, headers, content, self._decode)

    def _read_body(self, response: requests.Response, what: str) -> bytes:
        """The whole body, refusing one larger than ``max_response_bytes`` before reading on."""
        cap = self.max_response_bytes
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > cap:
            raise VenueResponseError(
                f"{what} must answer at most {cap} bytes, announced {declared}",
                status=response.status_code,
            )
        content = bytearray()
        for chunk in response.iter_content(_READ_CHUNK):
            content += chunk
            if len(content) > cap:
                raise VenueResponseError(
                    f"{what} must answer at most {cap} bytes, sent more",
                    status=response.status_code,
                )
        return bytes(content)

    def backoff_after(self, error: VenueError, attempt: int, private: bool) -> bool:
        """Wait before retry ``attempt + 1``; False, without waiting, if it would not fit in
        the enclosing scope. A 429 puts the shared bucket on hold instead, for at most
        ``max_retry_after_s``: one call cannot hold every caller for long."""
        delay = self.retry.backoff.delay_s(attempt, self.rng)
        if isinstance(error, VenueRateLimitedError):
            if error.retry_after_s is not None:
                delay = min(error.retry_after_s, self.retry.max_retry_after_s)
            bucket = self.limiter.private if private else self.limiter.public
            bucket.hold_off(delay)
            return self.fits(delay)  # the next acquire waits out the hold
        if not self.fits(delay):
            return False
        if delay > 0:
            self._wait(delay)
        return True

    def send(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        body: dict[str, Any] | None = None,
        private: bool = True,
    ) -> Any:
        """Send an idempotent request, retrying transport failures, 5xx and 429 (at most
        ``retry.max_attempts`` attempts), all within ``timeout_s`` from now."""
        attempts = self.retry.max_attempts
        with self.scope(self.timeout_s):
            for attempt in range(1, attempts + 1):
                try:
                    return self.send_once(method, path, params=params, body=body, private=private)
                except (VenueTransportError, VenueRateLimitedError) as exc:
                    if attempt == attempts:
                        raise
                    _log.warning(
                        "%s %s attempt %d/%d failed: %s", method, path, attempt, attempts, exc
                    )
                    if not self.backoff_after(exc, attempt, private):
                        _log.warning("%s %s: no time left for another attempt", method, path)
                        raise
        raise AssertionError("unreachable: the loop returns or raises")
