"""Opening the venue a configuration names: the embedded simulated exchange, a separately
started one, or Coinbase; and reopening it when a reload changes ``venue.*`` or ``sim.*``."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Hashable

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from perpsbot.clock import Clock
from perpsbot.config import (
    COINBASE_MARKET_WS_URL,
    COINBASE_REST_BASE_URL,
    BotConfig,
    VenueKind,
)
from perpsbot.errors import InvalidConfigError
from perpsbot.sim import SimConfig, SimExchange
from perpsbot.venue import CdpCredentials, JwtSigner, RateLimits, VenueRateLimiter
from perpsbot.venue.link import VenueLink

__all__ = [
    "VENUE_LINK",
    "VenueLinks",
    "describe_link",
    "embeds_sim",
    "link_identity",
    "open_venue",
]

logger = logging.getLogger("perpsbot.bot.venue")

#: The reload unit of everything a venue link is built from: ``venue.*``, and ``sim.*`` when
#: the exchange is embedded. Actors that use the venue list it in their config sections.
VENUE_LINK = "venue.link"


def embeds_sim(config: BotConfig) -> bool:
    """True when the bot runs its own simulated exchange: ``venue.kind = "sim"`` and no URLs.

    With ``venue.rest_base_url`` and ``venue.market_ws_url`` set, a ``sim`` bot talks to a
    separately started ``perpsbot sim`` (or any venue at those URLs) instead.

    Raises:
        InvalidConfigError: only one of the two URLs is set for ``venue.kind = "sim"``.
    """
    venue = config.venue
    if venue.kind is not VenueKind.SIM:
        return False
    urls = {"venue.rest_base_url": venue.rest_base_url, "venue.market_ws_url": venue.market_ws_url}
    unset = [key for key, value in urls.items() if value is None]
    if len(unset) == 1:
        given = next(key for key in urls if key not in unset)
        raise InvalidConfigError(
            f"{unset[0]} must be set too when {given} is, to reach a separately started sim"
            " (venue.kind 'sim'); found only " + given
        )
    return len(unset) == 2


def link_identity(config: BotConfig) -> Hashable:
    """What the venue link of ``config`` is built from; equal identities share one link."""
    return (config.venue, config.sim) if embeds_sim(config) else (config.venue,)


def _throwaway_key() -> tuple[CdpCredentials, str]:
    """A fresh P-256 key for the embedded exchange, so paper trading signs real JWTs too;
    returns the credentials and the public key the exchange verifies with."""
    key = ec.generate_private_key(ec.SECP256R1())
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    credentials = CdpCredentials("organizations/perpsbot-dev/apiKeys/embedded-sim", private_pem)
    return credentials, public_pem


def open_venue(
    config: BotConfig,
    clock: Clock,
    stack: contextlib.ExitStack,
    *,
    on_rest_outcome: Callable[[str], None] | None = None,
) -> VenueLink:
    """Build a :class:`VenueLink` for ``config``; an embedded exchange is stopped by ``stack``.

    ``venue.kind = "sim"`` embeds a simulated exchange on loopback unless both URLs are set;
    then it signs with the configured key, or with a throwaway one (a ``perpsbot sim``
    without ``--public-key`` accepts any). ``coinbase`` needs credentials.
    """
    venue = config.venue
    limiter = VenueRateLimiter(
        clock=clock,
        limits=RateLimits(
            private_per_s=venue.private_per_s,
            public_per_s=venue.public_per_s,
            websocket_connects_per_s=venue.websocket_connects_per_s,
        ),
    )
    embedded = None
    if embeds_sim(config):
        credentials, public_pem = _throwaway_key()
        embedded = SimExchange(
            SimConfig(
                host=config.sim.host,
                rest_port=config.sim.rest_port,
                ws_port=config.sim.ws_port,
                seed=config.sim.seed,
                tick_interval_s=config.sim.tick_interval_s,
                verify_auth=config.sim.verify_auth,
                public_keys_pem=(public_pem,),
            ),
            clock=clock,
        )
        stack.enter_context(embedded)
        rest_url, ws_url = embedded.rest_base_url, embedded.market_ws_url
    elif venue.credentials is not None:
        credentials = CdpCredentials(venue.credentials.key_name, venue.credentials.private_key_pem)
        rest_url = venue.rest_base_url or COINBASE_REST_BASE_URL
        ws_url = venue.market_ws_url or COINBASE_MARKET_WS_URL
    elif venue.kind is VenueKind.SIM:
        credentials, _ = _throwaway_key()
        rest_url, ws_url = str(venue.rest_base_url), str(venue.market_ws_url)  # both set
    else:
        raise InvalidConfigError("venue.kind 'coinbase' needs credentials, found none")
    return VenueLink(
        rest_base_url=rest_url,
        market_ws_url=ws_url,
        limiter=limiter,
        signer=JwtSigner(credentials, clock=clock),
        clock=clock,
        request_timeout_s=venue.request_timeout_s,
        embedded=embedded,
        on_rest_outcome=on_rest_outcome,
    )


class VenueLinks:
    """The venue links of a bot process: one per venue configuration, reopened on reload.

    Actor factories ask :meth:`link_for` with the configuration they start with, so a reload
    that changes ``venue.*`` (or ``sim.*`` of an embedded exchange) hands the restarted actors
    a new link. The daemon opens the new link before it reloads (a failure rejects the
    reload) and closes the old ones after (:meth:`retain`). Thread-safe.

    Args:
        clock: for rate limits, JWTs and the embedded exchange.
        on_rest_outcome: told the outcome of every REST attempt on every link (metrics).
    """

    def __init__(
        self, clock: Clock, *, on_rest_outcome: Callable[[str], None] | None = None
    ) -> None:
        self._clock = clock
        self._on_rest_outcome = on_rest_outcome
        self._lock = threading.Lock()
        self._open: dict[Hashable, tuple[VenueLink, contextlib.ExitStack]] = {}
        self.current: VenueLink | None = None
        """The link most recently asked for: what the running actors use."""

    def link_for(self, config: BotConfig) -> VenueLink:
        """The link for ``config``, opened now if no open link has its identity."""
        identity = link_identity(config)
        with self._lock:
            opened = self._open.get(identity)
            if opened is None:
                stack = contextlib.ExitStack()
                try:
                    link = open_venue(
                        config, self._clock, stack, on_rest_outcome=self._on_rest_outcome
                    )
                except BaseException:
                    stack.close()
                    raise
                opened = (link, stack)
                self._open[identity] = opened
                if self._open.keys() != {identity}:
                    logger.info("opened a new venue link: %s", describe_link(link))
            self.current = opened[0]
            return opened[0]

    def retain(self, config: BotConfig) -> None:
        """Close every link but the one for ``config`` (after a reload moved the actors)."""
        keep = link_identity(config)
        with self._lock:
            retired = [(k, v) for k, v in self._open.items() if k != keep]
            for identity, _ in retired:
                del self._open[identity]
        for _, (link, stack) in retired:
            logger.info("closing the previous venue link: %s", describe_link(link))
            stack.close()

    def close(self) -> None:
        """Close every link (stops embedded exchanges)."""
        with self._lock:
            opened, self._open = list(self._open.values()), {}
        for _, stack in opened:
            stack.close()

    def __enter__(self) -> VenueLinks:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def describe_link(link: VenueLink) -> str:
    """Where ``link`` goes, for people: ``embedded exchange: REST ..., market ws ...``."""
    kind = "embedded exchange" if link.embedded is not None else "venue"
    return f"{kind}: REST {link.rest_base_url}, market ws {link.market_ws_url}"
