"""CDP API key authentication: one short-lived signed JWT per REST request or websocket message.

REST tokens carry ``uri = "<METHOD> <host><path>"`` (no scheme, no query string); websocket
tokens carry no ``uri``. Both: header ``kid`` (the key name) and a fresh ``nonce``; claims
``sub`` (the key name), ``iss = "cdp"``, ``nbf = now`` and ``exp = now + 120``. ES256 for EC
P-256 keys, EdDSA for Ed25519 keys. Secrets never appear in a repr, log line or error message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from perpsbot.clock import Clock
from perpsbot.ids import random_token
from perpsbot.keys import CdpCredentials

__all__ = ["JwtSigner"]

TOKEN_LIFETIME_S = 120


class JwtSigner:
    """Builds the JWTs for REST requests and websocket subscribes.

    Args:
        credentials: the CDP key.
        clock: the time source for ``nbf``/``exp``.
        skew_s: seconds added to the clock (the venue's ``/time`` minus ours) before signing.
        nonce: a source of fresh nonces; :func:`perpsbot.ids.random_token` by default.
    """

    def __init__(
        self,
        credentials: CdpCredentials,
        *,
        clock: Clock,
        skew_s: float = 0.0,
        nonce: Callable[[], str] = random_token,
    ) -> None:
        self._credentials = credentials
        self._clock = clock
        self._nonce = nonce
        self.skew_s = skew_s

    @property
    def key_name(self) -> str:
        """The CDP key name (not a secret)."""
        return self._credentials.key_name

    def _token(self, uri: str | None) -> str:
        now = int(self._clock.time_ns() // 1_000_000_000 + self.skew_s)
        name = self._credentials.key_name
        claims: dict[str, Any] = {
            "sub": name,
            "iss": "cdp",
            "nbf": now,
            "exp": now + TOKEN_LIFETIME_S,
        }
        if uri is not None:
            claims["uri"] = uri
        headers = {"kid": name, "nonce": self._nonce(), "typ": "JWT"}
        return self._credentials.sign(claims, headers)

    def rest_token(self, method: str, host: str, path: str) -> str:
        """A JWT for one REST request; ``path`` must not contain the query string."""
        return self._token(f"{method.upper()} {host}{path.split('?', 1)[0]}")

    def ws_token(self) -> str:
        """A JWT for one websocket subscribe or unsubscribe message (no ``uri`` claim)."""
        return self._token(None)

    def __repr__(self) -> str:
        return f"JwtSigner(key_name={self._credentials.key_name!r}, skew_s={self.skew_s})"
