"""JSON-RPC over HTTP: ``POST <base>/<method>`` through the Advanced Trade side's
:class:`~perpsbot.venue._http.HttpTransport` (deadlines, body caps, the shared budget), with
the bearer token from :class:`~._tokens.TokenCache`.

Reads are retried within their deadline (transport errors, too_many_requests: the shared
budget is held, then the call waits its turn; a refused token: one re-exchange). An order is
sent once: any doubt about whether it reached the venue is an
:class:`~perpsbot.errors.OrderOutcomeUnknownError`.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import msgspec
import requests

from perpsbot.clock import Clock
from perpsbot.errors import (
    OrderOutcomeUnknownError,
    VenueAuthError,
    VenueRateLimitedError,
    VenueResponseError,
    VenueTransportError,
)
from perpsbot.venue._http import MAX_RESPONSE_BYTES, HttpTransport, RetryPolicy
from perpsbot.venue.auth import JwtSigner
from perpsbot.venue.global_derivatives._budget import MATCHING
from perpsbot.venue.global_derivatives._codec import typed
from perpsbot.venue.global_derivatives._errors import order_error, read_error
from perpsbot.venue.global_derivatives._tokens import TokenCache
from perpsbot.venue.global_derivatives.records import AuthAnswer
from perpsbot.venue.ratelimit import VenueRateLimiter

_log = logging.getLogger("perpsbot.venue.global")
_ENCODER = msgspec.json.Encoder(decimal_format="number")
_DECODER = msgspec.json.Decoder(float_hook=Decimal)


class _Bearer(requests.auth.AuthBase):
    """Puts the token of the call being made on its request (never one exchanged inside)."""

    def __init__(self) -> None:
        self.local = threading.local()

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        token = getattr(self.local, "token", "")
        if token:
            request.headers["Authorization"] = f"Bearer {token}"
        return request


class RpcHttp:
    """The gateway's HTTP face for one account.

    Args:
        base_url: ``https://drb.coinbase.com/api/v2`` (or the simulated gateway's).
        signer: signs the CDP JWT of each token exchange; None for public methods only.
        limiter: the venue's shared budget (:func:`~._budget.global_budget`).
        clock: deadlines and token age.
        timeout_s: each call ends within this, its retries and waits included.
    """

    def __init__(
        self,
        *,
        base_url: str,
        signer: JwtSigner | None,
        limiter: VenueRateLimiter,
        clock: Clock,
        timeout_s: float = 10.0,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
        retry: RetryPolicy | None = None,
        wait: Callable[[float], None] | None = None,
    ) -> None:
        self._bearer = _Bearer()
        session = requests.Session()
        session.auth = self._bearer
        self.transport = HttpTransport(
            base_url=base_url,
            signer=None,  # the bearer token is the credential, not a per-request JWT
            limiter=limiter,
            clock=clock,
            session=session,
            timeout_s=timeout_s,
            max_response_bytes=max_response_bytes,
            retry=retry,
            wait=wait,
            encode=_ENCODER.encode,
            decode=_DECODER.decode,
        )
        self.limiter = limiter
        self._ids = itertools.count(1)
        self.tokens: TokenCache | None = None
        if signer is not None:
            self.tokens = TokenCache(signer=signer, clock=clock, exchange=self._exchange)

    def close(self) -> None:
        self.transport.session.close()

    def _exchange(self, params: dict[str, object]) -> AuthAnswer:
        result = self._send("public/auth", params, token="")
        return typed(result, AuthAnswer, "public/auth")

    def call(self, method: str, params: dict[str, Any]) -> Any:
        """A read (or a cancel): retried within the deadline; a refused token re-exchanged once."""
        transport = self.transport
        with transport.scope(transport.timeout_s):
            attempts = transport.retry.max_attempts
            reauthorized = False
            attempt = 0
            while True:
                attempt += 1
                token = self._token(method)
                try:
                    return self._send(method, params, token=token)
                except VenueAuthError:
                    if reauthorized or self.tokens is None or not token:
                        raise
                    reauthorized = True
                    self.tokens.refused(token)
                except (VenueTransportError, VenueRateLimitedError) as exc:
                    if attempt >= attempts or not transport.backoff_after(exc, attempt, False):
                        raise
                    _log.warning("%s attempt %d/%d failed: %s", method, attempt, attempts, exc)

    def place(self, method: str, params: dict[str, Any], *, label: str) -> Any:
        """``private/buy`` or ``private/sell``, sent once: a refusal is typed, a doubt unknown."""
        transport = self.transport
        with transport.scope(transport.timeout_s):
            token = self._token(method)
            if self.limiter.private.acquire_within(transport.deadline().remaining_s()) is None:
                raise VenueRateLimitedError(f"{method} of {label!r} found no matching slot in time")
            try:
                return self._send(method, params, token=token, label=label)
            except OrderOutcomeUnknownError:
                raise
            except VenueRateLimitedError as exc:
                transport.backoff_after(exc, 1, False)  # hold the budget; the caller decides
                raise
            except (VenueTransportError, VenueResponseError) as exc:
                raise OrderOutcomeUnknownError(
                    f"{method} of {label!r} may have reached the venue: {exc}; look it up by"
                    " label before sending it again",
                    client_order_id=label,
                ) from exc

    def _token(self, method: str) -> str:
        if not method.startswith("private/"):
            return ""
        if self.tokens is None:
            raise VenueAuthError(f"{method} needs a CDP key, and none was given")
        return self.tokens.token()

    def _send(self, method: str, params: dict[str, Any], *, token: str, label: str = "") -> Any:
        body = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params}
        self._bearer.local.token = token
        try:
            if method in MATCHING and not label:
                acquired = self.limiter.private.acquire_within(
                    self.transport.deadline().remaining_s()
                )
                if acquired is None:
                    raise VenueRateLimitedError(f"{method} found no matching slot in time")
            answer = self.transport.send_once("POST", f"/{method}", body=body, private=False)
        except VenueResponseError as exc:
            answer = _error_body(exc)
        finally:
            self._bearer.local.token = ""
        if not isinstance(answer, dict):
            raise VenueResponseError(
                f"{method} must answer a JSON-RPC object, was {answer!r}"[:200]
            )
        error = answer.get("error")
        if isinstance(error, dict):
            raise order_error(method, label, error) if label else read_error(method, error)
        if "result" not in answer:
            raise VenueResponseError(
                f"{method} answered neither result nor error: {answer!r}"[:200]
            )
        return answer["result"]


def _error_body(exc: VenueResponseError) -> Any:
    """The JSON-RPC error object a 4xx answer carries (Deribit answers errors with 400)."""
    try:
        body = _DECODER.decode(exc.body)
    except (msgspec.DecodeError, RecursionError):
        raise exc from None
    if not isinstance(body, dict) or not isinstance(body.get("error"), dict):
        raise exc
    return body
