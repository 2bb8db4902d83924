"""Opening the venue a configuration names: the embedded simulated exchange (on the paper
account beside the journal, :mod:`perpsbot.bot._paper`), a separately started one, or
Coinbase (Advanced Trade, or its Global Derivatives gateway); and reopening it when a reload
changes ``venue.*`` or ``journal.path``."""

from __future__ import annotations

import contextlib
import difflib
import logging
import threading
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import TYPE_CHECKING, cast

import attrs

from perpsbot.bot._global import GlobalVenue, global_gateway_of, start_global_gateway
from perpsbot.bot._paper import paper_dir, paper_key, start_over, throwaway_key
from perpsbot.clock import Clock
from perpsbot.config import BotConfig, GlobalEndpoints, SimConfig, VenueKind, global_endpoints
from perpsbot.errors import InvalidConfigError, SimStateError, VenueError
from perpsbot.venue import (
    COINBASE_REST_URL,
    COINBASE_WS_URL,
    COINBASE_WS_USER_URL,
    CdpCredentials,
    JwtSigner,
    RateLimits,
    VenueRateLimiter,
)
from perpsbot.venue.link import VenueLink

if TYPE_CHECKING:
    from perpsbot.sim import SimExchange

__all__ = [
    "VENUE_LINK",
    "VenueLinks",
    "check_symbols",
    "describe_link",
    "embeds_sim",
    "link_identity",
    "open_venue",
    "venue_credentials",
]

logger = logging.getLogger("perpsbot.bot.venue")
_LISTED = 20  # a venue offering more products is summed up, not listed, in messages

#: The reload unit of everything a venue link is built from: ``venue.*``, and ``sim.*`` when
#: the exchange is embedded. Actors that use the venue list it in their config sections.
VENUE_LINK = "venue.link"


def embeds_sim(config: BotConfig) -> bool:
    """True when the bot runs its own simulated exchange: ``venue.kind = "sim"`` and no URLs,
    or ``venue.kind = "global"`` without ``venue.global_*`` endpoints and without ``--live``
    (its simulated Global Derivatives gateway; :func:`~perpsbot.config.global_endpoints`).

    With ``venue.rest_base_url`` and ``venue.market_ws_url`` set, a ``sim`` bot talks to a
    separately started ``perpsbot sim`` (or any venue at those URLs) instead; with the three
    ``venue.global_*`` endpoints set, a ``global`` bot talks to the gateway there.

    Raises:
        InvalidConfigError: only one of the two URLs is set for ``venue.kind = "sim"``.
    """
    venue = config.venue
    if venue.kind is VenueKind.COINBASE:
        return False
    if venue.kind is VenueKind.GLOBAL:
        return global_endpoints(venue, live=config.live) is None
    urls = {"venue.rest_base_url": venue.rest_base_url, "venue.market_ws_url": venue.market_ws_url}
    unset = [key for key, value in urls.items() if value is None]
    if len(unset) == 1:
        given = next(key for key in urls if key not in unset)
        raise InvalidConfigError(
            f"{unset[0]} must be set too when {given} is, to reach a separately started sim"
            " (venue.kind 'sim'); found only " + given
        )
    return len(unset) == 2


def venue_credentials(config: BotConfig) -> CdpCredentials:
    """The key a venue that is not embedded is reached with: the configured one, else (a
    paper venue: a ``perpsbot sim`` or gateway that checks no key) a throwaway one.

    Raises:
        InvalidConfigError: a live venue has no credentials.
    """
    credentials = config.venue.credentials
    if credentials is not None:
        return CdpCredentials(credentials.key_name, credentials.private_key_pem)
    if config.venue.kind is VenueKind.COINBASE or config.live:
        raise InvalidConfigError(
            f"venue.kind '{config.venue.kind}' with live={config.live} needs credentials"
            " (venue.api_key_file, or PERPSBOT_VENUE_API_KEY_NAME and"
            " PERPSBOT_VENUE_API_PRIVATE_KEY), found none"
        )
    return throwaway_key()[0]


def link_identity(config: BotConfig) -> Hashable:
    """What the venue link of ``config`` is built from; equal identities share one link.

    An embedded exchange is identified by its paper account, not its settings: ``sim.*``
    changes apply at its next start (the account stays with the running exchange).
    """
    return (config.venue, paper_dir(config)) if embeds_sim(config) else (config.venue,)


def _start_sim(
    config: BotConfig, clock: Clock, stack: contextlib.ExitStack, *, fresh: bool = False
) -> tuple[SimExchange, CdpCredentials]:
    """Start the simulated exchange ``config.sim`` describes on the paper account beside the
    journal (stopped by ``stack``), and the account's key it trusts; ``fresh`` sets the
    account and its journal aside first (:func:`~perpsbot.bot._paper.start_over`).

    Raises:
        InvalidConfigError: its ports are taken.
        SimStateError: the paper account cannot be used (named, with the way out).
    """
    # Imported here: a bot on Coinbase or on a separate sim never loads the simulator.
    from perpsbot.sim import SimExchange  # noqa: PLC0415

    if fresh:
        start_over(config, clock)
    directory = paper_dir(config)
    credentials, public_pem = paper_key(directory)
    sim = SimExchange(
        attrs.evolve(config.sim, public_keys_pem=(public_pem,)), clock=clock, state_dir=directory
    )
    try:
        sim.start()
    except SimStateError:
        raise
    except OSError as error:  # its ports are taken
        raise config.sim.listen_error(error) from None
    stack.callback(sim.stop)
    if config.venue.kind is VenueKind.GLOBAL:
        start_global_gateway(sim, stack)
    return sim, credentials


def _link(
    config: BotConfig,
    clock: Clock,
    embedded: tuple[SimExchange, CdpCredentials] | None,
    on_rest_outcome: Callable[[str], None] | None,
) -> VenueLink:
    venue = config.venue
    limiter = VenueRateLimiter(
        clock=clock,
        limits=RateLimits(
            private_per_s=venue.private_per_s,
            public_per_s=venue.public_per_s,
            websocket_connects_per_s=venue.websocket_connects_per_s,
        ),
    )
    sim = None
    user_ws_url: str | None
    gateways, quotes, user_channels, market_marks = None, None, None, None
    if embedded is not None:
        sim, credentials = embedded
        rest_url, ws_url, user_ws_url = sim.rest_base_url, sim.market_ws_url, sim.user_ws_url
    else:
        credentials = venue_credentials(config)
        coinbase = venue.kind is VenueKind.COINBASE  # a separate sim has both URLs set
        rest_url = venue.rest_base_url or COINBASE_REST_URL
        ws_url = venue.market_ws_url or COINBASE_WS_URL
        user_ws_url = venue.user_ws_url or (COINBASE_WS_USER_URL if coinbase else None)
    if venue.kind is VenueKind.GLOBAL:
        user_ws_url = None  # the venue's own user channels instead (user_channels)
        endpoints = global_endpoints(venue, live=config.live)
        if endpoints is None:  # the embedded gateway
            assert sim is not None
            face = global_gateway_of(sim)
            endpoints = GlobalEndpoints(
                http_url=face.http_url, trading_ws_url=face.trading_ws_url,
                streams_ws_url=face.streams_ws_url,
            )  # fmt: skip
        else:  # no Advanced Trade face: where the link points, for people (describe_link)
            rest_url, ws_url = endpoints.http_url, endpoints.streams_ws_url
        gateways, quotes, user_channels, market_marks = GlobalVenue(
            http_url=endpoints.http_url, trading_ws_url=endpoints.trading_ws_url,
            streams_ws_url=endpoints.streams_ws_url, credentials=credentials, clock=clock,
            request_timeout_s=venue.request_timeout_s,
        ).factories  # fmt: skip
    return VenueLink(
        rest_base_url=rest_url,
        market_ws_url=ws_url,
        user_ws_url=user_ws_url,
        gateways=gateways,
        quotes=quotes,
        user_channels=user_channels,
        market_marks=market_marks,
        limiter=limiter,
        signer=JwtSigner(credentials, clock=clock),
        clock=clock,
        request_timeout_s=venue.request_timeout_s,
        embedded=sim,
        on_rest_outcome=on_rest_outcome,
    )


def open_venue(
    config: BotConfig,
    clock: Clock,
    stack: contextlib.ExitStack,
    *,
    on_rest_outcome: Callable[[str], None] | None = None,
) -> VenueLink:
    """Build a :class:`VenueLink` for ``config``; an embedded exchange is stopped by ``stack``.

    ``venue.kind = "sim"`` embeds a simulated exchange on loopback, on the paper account
    beside the journal, unless both URLs are set; then it signs with the configured key, or
    with a throwaway one (a ``perpsbot sim`` without ``--public-key`` accepts any).
    ``global`` embeds the simulated gateway likewise unless its endpoints are set or the
    configuration is ``--live`` (:func:`~perpsbot.config.global_endpoints`). ``coinbase``
    and a live ``global`` venue need credentials.

    Raises:
        InvalidConfigError: the configuration cannot be opened (sim ports taken, ...).
        SimStateError: the paper account cannot be used.
    """
    embedded = _start_sim(config, clock, stack) if embeds_sim(config) else None
    return _link(config, clock, embedded, on_rest_outcome)


class VenueLinks:
    """The venue links of a bot process, reopened when a reload changes what they are built of.

    Actor factories ask :meth:`link_for` with the configuration they start with, so a reload
    that changes ``venue.*`` hands the restarted actors a new link. A ``journal.path`` that
    moves the paper account starts an embedded exchange on the new one; ``sim.*`` changes
    apply at the next start (a warning says so: the running exchange keeps the account). The
    daemon opens the new link before it reloads (a failure rejects the reload) and closes
    what the old one held after (:meth:`retain`). Thread-safe.

    Args:
        clock: for rate limits, JWTs and the embedded exchange.
        on_rest_outcome: told the outcome of every REST attempt on every link (metrics).
        fresh_paper: the first embedded exchange sets the paper account and its journal aside
            and starts new ones (``perpsbot run --fresh-paper``; the daemon holds the
            journal's lock and has not opened it yet); later ones never do.
    """

    def __init__(
        self,
        clock: Clock,
        *,
        on_rest_outcome: Callable[[str], None] | None = None,
        fresh_paper: bool = False,
    ) -> None:
        self._clock = clock
        self._on_rest_outcome = on_rest_outcome
        self._fresh_paper = fresh_paper
        self._lock = threading.Lock()
        self._links: dict[Hashable, VenueLink] = {}
        self._sims: dict[Path, tuple[SimExchange, CdpCredentials, contextlib.ExitStack]] = {}
        self._warned: set[SimConfig] = set()
        self.current: VenueLink | None = None
        """The link most recently asked for: what the running actors use."""

    def link_for(self, config: BotConfig) -> VenueLink:
        """The link for ``config``, opened now if no open link has its identity."""
        identity = link_identity(config)
        with self._lock:
            link = self._links.get(identity)
            if link is None:
                embedded = self._sim_for(config) if embeds_sim(config) else None
                link = _link(config, self._clock, embedded, self._on_rest_outcome)
                if self._links:
                    logger.info("opened a new venue link: %s", describe_link(link))
                self._links[identity] = link
            sim = embedded_sim(link)
            if sim is not None:
                self._keeps_settings(sim, config)
            self.current = link
            return link

    def _sim_for(self, config: BotConfig) -> tuple[SimExchange, CdpCredentials]:
        directory = paper_dir(config)
        opened = self._sims.get(directory)
        if opened is None:
            stack = contextlib.ExitStack()
            try:
                sim, credentials = _start_sim(config, self._clock, stack, fresh=self._fresh_paper)
            except BaseException:
                stack.close()
                raise
            self._fresh_paper = False
            opened = self._sims[directory] = (sim, credentials, stack)
        return opened[0], opened[1]

    def _keeps_settings(self, sim: SimExchange, config: BotConfig) -> None:
        """Warn (once per settings) that ``config.sim`` waits for the next start."""
        wanted = _settings(config.sim)
        if wanted != _settings(sim.config) and wanted not in self._warned:
            self._warned.add(wanted)
            logger.warning(
                "sim.* changed: the embedded exchange on the paper account %s keeps its"
                " settings until the bot restarts",
                sim.state_dir,
            )

    def retain(self, config: BotConfig) -> None:
        """Forget every link but the one for ``config`` and stop the embedded exchanges it
        does not use (after a reload moved the actors to it)."""
        keep = link_identity(config)
        keep_sim = paper_dir(config) if embeds_sim(config) else None
        with self._lock:
            self._links = {k: v for k, v in self._links.items() if k == keep}
            retired = [v for k, v in self._sims.items() if k != keep_sim]
            self._sims = {k: v for k, v in self._sims.items() if k == keep_sim}
        for sim, _, stack in retired:
            logger.info("stopping the previous embedded exchange at %s", sim.rest_base_url)
            stack.close()

    def close(self) -> None:
        """Stop every embedded exchange."""
        with self._lock:
            retired, self._sims, self._links = list(self._sims.values()), {}, {}
        for _, _, stack in retired:
            stack.close()

    def __enter__(self) -> VenueLinks:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _settings(sim: SimConfig) -> SimConfig:
    """The settings an exchange was asked for (the key it trusts is the bot's, not a setting)."""
    return attrs.evolve(sim, public_keys_pem=())


def embedded_sim(link: VenueLink) -> SimExchange | None:
    """The exchange this process runs for ``link``, if it runs one (the venue layer knows
    it only as an object to keep alive; only :func:`_link` puts one there). The simulator's
    module is not imported for a live venue, so this is a cast, not a check."""
    return cast("SimExchange | None", link.embedded)


def describe_link(link: VenueLink) -> str:
    """Where ``link`` goes, for people: ``embedded exchange: REST ..., market ws ...``, and
    the paper account an embedded exchange keeps."""
    sim = embedded_sim(link)
    kind = "embedded exchange" if sim is not None else "venue"
    where = f"{kind}: REST {link.rest_base_url}, market ws {link.market_ws_url}"
    if sim is not None and sim.state_dir is not None:
        where += f", paper account {sim.state_dir}"
    return where


def _offered(venue: VenueLink, symbols: tuple[str, ...]) -> list[str]:
    """The products the venue offers: Advanced Trade's catalogue, or (another venue's gateway)
    those of ``symbols`` it lists."""
    if venue.gateways is not None:
        gateway = venue.gateway()
        try:
            return sorted(gateway.products(symbols))
        finally:
            gateway.close()
    client = venue.rest_client()
    try:
        return sorted(product.product_id for product in client.products())
    finally:
        client.close()


def check_symbols(config: BotConfig, venue: VenueLink) -> None:
    """Check that the venue offers every product in ``market_data.symbols``.

    The products come from the venue's ``GET /market/products`` (the embedded exchange's in
    ``dev``), on the process's shared budget. When the venue cannot be asked, the check is
    skipped with a warning: a venue outage must not stop a start or a reload.

    Raises:
        InvalidConfigError: naming each symbol the venue does not offer, with close matches.
    """
    try:
        offered = _offered(venue, config.market_data.symbols)
    except VenueError as error:
        logger.warning(
            "market_data.symbols not checked: the venue's products are unknown (%s)", error
        )
        return
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
