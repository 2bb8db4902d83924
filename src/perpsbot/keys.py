"""CDP API keys: a key's name and its parsed private key, which signs and never shows.

A leaf of the package (like ``errors``, ``clock`` and ``ids``): the configuration checks a
key with it when it loads one, and the venue's JWT signer signs with it.
"""

from __future__ import annotations

from typing import Any

import jwt
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from perpsbot.errors import VenueAuthError

__all__ = ["CdpCredentials"]


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
