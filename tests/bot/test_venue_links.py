"""Which venue a configuration names, and reopening it when the configuration changes."""

from __future__ import annotations

import logging
from pathlib import Path

import attrs
import pytest
import requests

from perpsbot.bot import VenueLinks, embeds_sim
from perpsbot.clock import SystemClock
from perpsbot.config import BotConfig, JournalConfig, SimConfig, VenueConfig
from perpsbot.errors import InvalidConfigError
from perpsbot.venue.link import VenueLink

REST = "http://127.0.0.1:8080/api/v3/brokerage"
WS = "ws://127.0.0.1:8081/ws"


def _answers(link: VenueLink) -> bool:
    try:
        return requests.get(f"{link.rest_base_url}/time", timeout=5).status_code == 200
    except requests.ConnectionError:
        return False


def test_a_sim_venue_is_embedded_unless_both_urls_point_elsewhere() -> None:
    assert embeds_sim(BotConfig())
    external = BotConfig(venue=VenueConfig(rest_base_url=REST, market_ws_url=WS))
    assert not embeds_sim(external)
    with pytest.raises(
        InvalidConfigError,
        match=r"venue\.market_ws_url must be set too when venue\.rest_base_url is",
    ):
        embeds_sim(BotConfig(venue=VenueConfig(rest_base_url=REST)))


def test_a_separately_started_sim_is_reached_at_its_urls_with_a_signing_key() -> None:
    config = BotConfig(venue=VenueConfig(rest_base_url=REST, market_ws_url=WS))
    with VenueLinks(SystemClock()) as links:
        link = links.link_for(config)
    assert (link.rest_base_url, link.market_ws_url, link.embedded) == (REST, WS, None)
    assert link.signer is not None  # a perpsbot sim without --public-key accepts any key


def test_links_are_shared_by_identity_and_the_embedded_sim_outlives_venue_only_changes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = BotConfig(
        sim=SimConfig(tick_interval_s=1.0),
        journal=JournalConfig(path=tmp_path / "first" / "journal.sqlite3"),
    )
    with VenueLinks(SystemClock()) as links:
        first = links.link_for(config)
        assert links.link_for(attrs.evolve(config)) is first
        slower = attrs.evolve(config, venue=attrs.evolve(config.venue, request_timeout_s=30.0))
        second = links.link_for(slower)
        assert second is not first
        assert second.embedded is first.embedded  # the same running exchange
        links.retain(slower)
        assert _answers(first)
        # The paper account stays with the running exchange: sim.* waits for a restart.
        reseeded = attrs.evolve(slower, sim=attrs.evolve(slower.sim, seed=9))
        with caplog.at_level(logging.WARNING, logger="perpsbot.bot.venue"):
            assert links.link_for(reseeded) is second
        assert "keeps its settings until the bot restarts" in caplog.text
        # A journal elsewhere has its own paper account beside it: another exchange.
        moved = attrs.evolve(
            reseeded, journal=JournalConfig(path=tmp_path / "second" / "journal.sqlite3")
        )
        third = links.link_for(moved)
        links.retain(moved)
        assert third.embedded is not first.embedded
        assert not _answers(first)
        assert _answers(third)
    assert not _answers(third)  # closing stops every embedded exchange
    assert (tmp_path / "first" / "sim" / "state.sqlite3").is_file()
    assert (tmp_path / "second" / "sim" / "state.sqlite3").is_file()
