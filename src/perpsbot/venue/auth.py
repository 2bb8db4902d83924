"""CDP API key authentication: one short-lived signed JWT per REST request or websocket message.

REST tokens carry ``uri = "<METHOD> <host><path>"`` (no scheme, no query string); websocket
tokens carry no ``uri``. Both: header ``kid`` (the key name) and a fresh ``nonce``; claims
``sub`` (the key name), ``iss = "cdp"``, ``nbf = now`` and ``exp = now + 120``. ES256 for EC
P-256 keys, EdDSA for Ed25519 keys. Secrets never appear in a repr, log line or error message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jwt
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from perpsbot.clock import Clock
from perpsbot.errors import VenueAuthError
from perpsbot.ids import random_token

__all__ = ["CdpCredentials", "JwtSigner"]

TOKEN_LIFETIME_S = 120


class CdpCredentials:
    """A CDP API key: its name (``organizations/{org}/apiKeys/{id}``) and private key PEM.

    The PEM is parsed once at construction, so a bad key fails early with
    :class:`~perpsbot.errors.VenueAuthError` (whose message never contains the key). The bot
    reads keys only through :func:`perpsbot.config.load_config` (``venue.api_key_file`` or
    ``PERPSBOT_VENUE_API_KEY_NAME`` with ``PERPSBOT_VENUE_API_PRIVATE_KEY``).
    """

    __slots__ = ("_algorithm", "_key", "key_name")

    def __init__(self, key_name: str, private_key_pem: str) -> None:
        if not key_name:
            raise VenueAuthError("CDP key name must be a non-empty string, was empty")
        self.key_name = key_name
        pem = private_key_pem.replace("\\n", "\n").strip().encode()
        try:
            key = load_pem_private_key(pem, password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            raise VenueAuthError(
                f"CDP private key for {key_name!r} must be an unencrypted PEM EC P-256 or "
                "Ed25519 key, and it could not be parsed (key not shown)"
            ) from None
        if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
            self._algorithm = "ES256"
        elif isinstance(key, ed25519.Ed25519PrivateKey):
            self._algorithm = "EdDSA"
        else:
            raise VenueAuthError(
                f"CDP private key for {key_name!r} must be EC P-256 or Ed25519, "
                f"was {type(key).__name__}"
            )
        self._key: Any = key

    @property
    def algorithm(self) -> str:
        """``ES256`` or ``EdDSA``, from the key type."""
        return self._algorithm

    def sign(self, claims: dict[str, Any], headers: dict[str, Any]) -> str:
        """Sign ``claims`` with this key (used by :class:`JwtSigner`)."""
        return jwt.encode(claims, self._key, algorithm=self._algorithm, headers=headers)

    def __repr__(self) -> str:
        return f"CdpCredentials(key_name={self.key_name!r}, private_key=<redacted>)"

    __str__ = __repr__


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
