"""Opening the venue a configuration names, and checking its symbols against the venue."""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from perpsbot.bot import VenueLink, check_symbols, open_venue
from perpsbot.clock import SystemClock
from perpsbot.config import BotConfig, JournalConfig, MarketDataConfig, SimConfig
from perpsbot.errors import InvalidConfigError
from perpsbot.sim import SimExchange
from perpsbot.venue import VenueRateLimiter


def _journal(tmp_path: Path) -> JournalConfig:
    """A journal under ``tmp_path``: the embedded exchange keeps its paper account beside it."""
    return JournalConfig(path=tmp_path / "journal.sqlite3")


@pytest.fixture
def dev_venue(tmp_path: Path) -> Iterator[VenueLink]:
    """The dev profile's venue: the embedded exchange on loopback, stopped at teardown."""
    with contextlib.ExitStack() as stack:
        yield open_venue(BotConfig(journal=_journal(tmp_path)), SystemClock(), stack)


def _with_symbols(*symbols: str) -> BotConfig:
    return BotConfig(market_data=MarketDataConfig(symbols=symbols))


def test_symbols_the_venue_offers_pass(dev_venue: VenueLink) -> None:
    check_symbols(_with_symbols("BTC-USD", "BIP-20DEC30-CDE"), dev_venue)


def test_an_unknown_symbol_is_named_with_what_the_venue_offers(dev_venue: VenueLink) -> None:
    with pytest.raises(InvalidConfigError) as caught:
        check_symbols(_with_symbols("BTC-USD", "FOO-BAR", "ETH-USX"), dev_venue)

    assert str(caught.value) == (
        "market_data.symbols must name products the venue offers (BIP-20DEC30-CDE, BTC-USD,"
        " ETH-USD, ETP-20DEC30-CDE), was 'FOO-BAR', 'ETH-USX' (did you mean ETH-USD?)"
    )


def test_a_venue_that_cannot_be_asked_skips_the_check_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]  # closed when the block ends: nothing listens there
    clock = SystemClock()
    unreachable = VenueLink(
        rest_base_url=f"http://127.0.0.1:{port}/api/v3/brokerage",
        market_ws_url=f"ws://127.0.0.1:{port}/ws",
        limiter=VenueRateLimiter(clock=clock),
        signer=None,
        clock=clock,
        request_timeout_s=2.0,
    )

    with caplog.at_level(logging.WARNING, logger="perpsbot.bot.venue"):
        check_symbols(_with_symbols("FOO-BAR"), unreachable)

    assert "market_data.symbols not checked" in caplog.text


def test_sim_ports_in_use_are_a_config_error_naming_the_ports(tmp_path: Path) -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        config = BotConfig(sim=SimConfig(rest_port=port), journal=_journal(tmp_path))

        with contextlib.ExitStack() as stack, pytest.raises(InvalidConfigError) as caught:
            open_venue(config, SystemClock(), stack)

    assert str(caught.value) == (
        "sim.rest_port and sim.ws_port must be free ports on 127.0.0.1 (0 picks a free one),"
        f" were {port} and 0 (Address already in use)"
    )


def test_the_embedded_exchange_runs_the_configured_sim_settings(dev_venue: VenueLink) -> None:
    assert isinstance(dev_venue.embedded, SimExchange)
    configured = attrs.evolve(dev_venue.embedded.config, public_keys_pem=())
    assert configured == BotConfig().sim
