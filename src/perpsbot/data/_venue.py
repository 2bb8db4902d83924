"""The venue the data commands read: the configured one, the paper account's for ``dev``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from perpsbot.bot._paper import open_paper_account, paper_dir
from perpsbot.bot._venue import describe_link, embeds_sim, open_venue
from perpsbot.clock import SystemClock
from perpsbot.config import BotConfig
from perpsbot.venue import RestClient
from perpsbot.venue.link import VenueLink

__all__ = ["venue_client", "venue_link"]


@contextlib.contextmanager
def venue_link(config: BotConfig) -> Iterator[tuple[VenueLink, str]]:
    """A link to the configured venue, and where it goes. A ``dev`` configuration reaches its
    paper account's exchange: the running bot's, or one started here on the account (opening
    it if there is none yet, as ``perpsbot run`` would: the candles downloaded are then the
    account's own history)."""
    clock = SystemClock()
    with contextlib.ExitStack() as stack:
        if embeds_sim(config) and _paper_account_in_use(config):
            link, where = open_paper_account(config, clock, stack)
        else:
            link = open_venue(config, clock, stack)
            where = describe_link(link)
        yield link, where


@contextlib.contextmanager
def venue_client(config: BotConfig) -> Iterator[tuple[RestClient, str]]:
    """A REST client on :func:`venue_link`'s venue, and where it goes."""
    with venue_link(config) as (link, where):
        client = link.rest_client()
        try:
            yield client, where
        finally:
            client.close()


def _paper_account_in_use(config: BotConfig) -> bool:
    from perpsbot.sim import StateDirectory  # noqa: PLC0415  (only for dev)

    return StateDirectory(paper_dir(config)).holder() is not None
