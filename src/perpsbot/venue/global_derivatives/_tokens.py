"""The access token from the CDP key: ``public/auth`` with a freshly signed JWT, renewed
before it expires (docs/venues/global-derivatives.md 1.4): at 80 % of ``expires_in`` and
never later than 12 minutes for HTTP. "Refresh" is a new exchange with a fresh JWT, as
Coinbase's SDK does; the ``refresh_token`` grant is Deribit's and not on Coinbase's page.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from perpsbot.clock import Clock
from perpsbot.venue.auth import JwtSigner
from perpsbot.venue.global_derivatives.records import AuthAnswer

#: HTTP tokens are renewed at most this long after the exchange (the guides: ~15 min).
MAX_HTTP_TOKEN_AGE_S = 12 * 60.0
RENEW_AT_FRACTION = 0.8


def renew_after_s(expires_in_s: float, *, cap_s: float | None) -> float:
    """How long after an exchange its token is renewed."""
    after = RENEW_AT_FRACTION * expires_in_s
    return after if cap_s is None else min(after, cap_s)


def auth_params(signer: JwtSigner) -> dict[str, object]:
    """The ``public/auth`` params: the CDP grant with a JWT signed now (no ``uri`` claim)."""
    return {"grant_type": "coinbase_cdp", "token": signer.ws_token()}


class TokenCache:
    """One HTTP access token, exchanged on first use and again when due or refused.

    Args:
        signer: signs the CDP JWT of each exchange.
        clock: when a token is due (monotonic).
        exchange: sends ``public/auth`` with the given params and returns its answer.
    """

    def __init__(
        self,
        *,
        signer: JwtSigner,
        clock: Clock,
        exchange: Callable[[dict[str, object]], AuthAnswer],
    ) -> None:
        self._signer = signer
        self._clock = clock
        self._exchange = exchange
        self._lock = threading.Lock()
        self._token = ""
        self._due_s = 0.0
        self.exchanges = 0

    def token(self) -> str:
        """The current token, exchanging a new one first if none is held or it is due."""
        with self._lock:
            if not self._token or self._clock.monotonic() >= self._due_s:
                answer = self._exchange(auth_params(self._signer))
                self.exchanges += 1
                self._token = answer.access_token
                self._due_s = self._clock.monotonic() + renew_after_s(
                    answer.expires_in, cap_s=MAX_HTTP_TOKEN_AGE_S
                )
            return self._token

    def refused(self, token: str) -> None:
        """The venue refused ``token`` (13004/13009): the next call exchanges a new one."""
        with self._lock:
            if self._token == token:
                self._token = ""
