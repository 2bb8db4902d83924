"""Opening the venue a configuration names: the embedded simulated exchange, or Coinbase."""

from __future__ import annotations

import contextlib
import difflib
import logging

import attrs
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
from perpsbot.errors import InvalidConfigError, VenueError
from perpsbot.sim import SimExchange
from perpsbot.venue import CdpCredentials, JwtSigner, RateLimits, VenueRateLimiter
from perpsbot.venue.link import VenueLink

__all__ = ["check_symbols", "open_venue"]

logger = logging.getLogger("perpsbot.bot.venue")
_LISTED = 20  # a venue offering more products is summed up, not listed, in messages


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
    """Build the process's :class:`VenueLink`; an embedded exchange is stopped by ``stack``.

    Raises:
        InvalidConfigError: the embedded exchange cannot listen on ``sim.host`` and its ports.
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
    if venue.kind is VenueKind.SIM:
        credentials, public_pem = _throwaway_key()
        sim = SimExchange(attrs.evolve(config.sim, public_keys_pem=(public_pem,)), clock=clock)
        try:
            sim.start()
        except OSError as error:
            raise config.sim.listen_error(error) from None
        stack.callback(sim.stop)
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


def check_symbols(config: BotConfig, venue: VenueLink) -> None:
    """Check that the venue offers every product in ``market_data.symbols``.

    The products come from the venue's ``GET /market/products`` (the embedded exchange's in
    ``dev``), on the process's shared budget. When the venue cannot be asked, the check is
    skipped with a warning: a venue outage must not stop a start or a reload.

    Raises:
        InvalidConfigError: naming each symbol the venue does not offer, with close matches.
    """
    client = venue.rest_client()
    try:
        offered = sorted(product.product_id for product in client.products())
    except VenueError as error:
        logger.warning(
            "market_data.symbols not checked: the venue's products are unknown (%s)", error
        )
        return
    finally:
        client.close()
    unknown = [symbol for symbol in config.market_data.symbols if symbol not in offered]
    if not unknown:
        return
    found = []
    for symbol in unknown:
        close = difflib.get_close_matches(symbol, offered, n=3)
        found.append(f"'{symbol}'" + (f" (did you mean {', '.join(close)}?)" if close else ""))
    listing = ", ".join(offered) if len(offered) <= _LISTED else f"{len(offered)} products"
    raise InvalidConfigError(
        f"market_data.symbols must name products the venue offers ({listing}), was "
        + ", ".join(found)
    )
