"""JWT checks as Coinbase makes them: ES256/EdDSA, ``iss == "cdp"``, time window, REST ``uri``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import jwt
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from perpsbot.errors import InvalidConfigError

_log = logging.getLogger(__name__)
_ALGORITHMS = ["ES256", "EdDSA"]


class JwtVerifier:
    """Verifies CDP JWTs against the configured public keys, reading time from ``now_ns``."""

    def __init__(
        self,
        *,
        keys_pem: tuple[str, ...],
        now_ns: Callable[[], int],
        leeway_s: float,
        enabled: bool,
    ) -> None:
        if enabled and not keys_pem:
            raise InvalidConfigError(
                "sim.public_keys_pem must hold at least one PEM key when sim.verify_auth is"
                " true, was empty (set verify_auth=False for lenient local runs)"
            )
        self.enabled = enabled
        self._now_ns = now_ns
        self._leeway_s = leeway_s
        self._keys: list[Any] = []
        for i, pem in enumerate(keys_pem):
            try:
                self._keys.append(load_pem_public_key(pem.encode()))
            except ValueError as exc:
                raise InvalidConfigError(
                    f"sim.public_keys_pem[{i}] must be a PEM public key, was not parseable: {exc}"
                ) from exc

    def check_rest(
        self, authorization: str | None, method: str, host: str, path: str
    ) -> str | None:
        """``None`` if the request may pass, else why it may not (for the log)."""
        if not self.enabled:
            return None
        if not authorization or not authorization.startswith("Bearer "):
            return "missing Authorization: Bearer header"
        claims, why = self._decode(authorization.removeprefix("Bearer ").strip())
        if claims is None:
            return why
        expected = f"{method} {host}{path}"
        if claims.get("uri") != expected:
            return f"uri claim must be {expected!r}, was {claims.get('uri')!r}"
        return None

    def check_ws(self, token: object) -> str | None:
        """``None`` if a websocket subscribe token is good (no ``uri`` needed), else why not."""
        if not self.enabled:
            return None
        if not isinstance(token, str) or not token:
            return "missing jwt"
        claims, why = self._decode(token)
        return None if claims is not None else why

    def _decode(self, token: str) -> tuple[dict[str, Any] | None, str]:
        last = "no public key configured"
        for key in self._keys:
            try:
                claims: dict[str, Any] = jwt.decode(
                    token,
                    key=key,
                    algorithms=_ALGORITHMS,
                    # Time is checked below against the injected clock, not the wall clock.
                    options={
                        "verify_exp": False,
                        "verify_nbf": False,
                        "verify_iat": False,
                        "verify_aud": False,
                        "require": ["exp", "nbf", "sub", "iss"],
                    },
                )
            except jwt.PyJWTError as exc:
                last = f"invalid token: {exc}"
                continue
            return self._claims_ok(claims)
        return None, last

    def _claims_ok(self, claims: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
        now_s = self._now_ns() / 1e9
        if claims.get("iss") != "cdp":
            return None, f"iss must be 'cdp', was {claims.get('iss')!r}"
        nbf, exp = claims.get("nbf"), claims.get("exp")
        if not isinstance(nbf, (int, float)) or not isinstance(exp, (int, float)):
            return None, "nbf and exp must be numbers"
        if nbf > now_s + self._leeway_s:
            return None, f"token not valid yet: nbf {nbf} > now {now_s:.0f}"
        if exp < now_s - self._leeway_s:
            return None, f"token expired: exp {exp} < now {now_s:.0f}"
        return claims, ""
