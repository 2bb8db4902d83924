"""Opening the venue a configuration names: the embedded simulated exchange, or Coinbase."""

from __future__ import annotations

import contextlib
import logging

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from perpsbot.clock import Clock
from perpsbot.config import (
    COINBASE_MARKET_WS_URL,
    COINBASE_REST_BASE_URL,
    COINBASE_USER_WS_URL,
    BotConfig,
    VenueKind,
)
from perpsbot.sim import SimConfig, SimExchange
from perpsbot.venue import CdpCredentials, JwtSigner, RateLimits, VenueRateLimiter
from perpsbot.venue.link import VenueLink

__all__ = ["open_venue"]

logger = logging.getLogger("perpsbot.bot.venue")


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


def open_venue(config: BotConfig, clock: Clock, stack: contextlib.ExitStack) -> VenueLink:
    """Build the process's :class:`VenueLink`; an embedded exchange is stopped by ``stack``."""
    venue = config.venue
    limiter = VenueRateLimiter(
        clock=clock,
        limits=RateLimits(
            private_per_s=venue.private_per_s,
            public_per_s=venue.public_per_s,
            websocket_connects_per_s=venue.websocket_connects_per_s,
        ),
    )
    if venue.kind is VenueKind.SIM:
        credentials, public_pem = _throwaway_key()
        sim = SimExchange(
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
        stack.enter_context(sim)
        logger.info(
            "embedded exchange: REST %s, market ws %s", sim.rest_base_url, sim.market_ws_url
        )
        rest_url, ws_url, embedded = sim.rest_base_url, sim.market_ws_url, sim
        user_ws_url = sim.user_ws_url
    else:
        if venue.credentials is None:
            raise ValueError("venue.kind 'coinbase' needs credentials, found none")
        credentials = CdpCredentials(venue.credentials.key_name, venue.credentials.private_key_pem)
        rest_url = venue.rest_base_url or COINBASE_REST_BASE_URL
        ws_url = venue.market_ws_url or COINBASE_MARKET_WS_URL
        user_ws_url = venue.user_ws_url or COINBASE_USER_WS_URL
        embedded = None
    return VenueLink(
        rest_base_url=rest_url,
        market_ws_url=ws_url,
        user_ws_url=user_ws_url,
        limiter=limiter,
        signer=JwtSigner(credentials, clock=clock),
        clock=clock,
        request_timeout_s=venue.request_timeout_s,
        embedded=embedded,
    )
