"""``venue.kind = "global"``: the embedded exchange's simulated Global Derivatives gateway as
the bot's venue (the executor's gateway, the poller's quotes, the user feed's channels, the
symbol check)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from perpsbot.bot import VenueLink, check_symbols, open_venue
from perpsbot.clock import SystemClock
from perpsbot.config import BotConfig, JournalConfig, MarketDataConfig, VenueConfig, VenueKind
from perpsbot.config._profiles import GLOBAL_DEV_SYMBOLS
from perpsbot.errors import InvalidConfigError
from perpsbot.messages import OrderType, Side, TimeInForce, UserFillReport, UserOrdersReceived
from perpsbot.runtime.testing import eventually
from perpsbot.venue.gateway import NewOrder


def _config(tmp_path: Path, *symbols: str, **venue: object) -> BotConfig:
    return BotConfig(
        journal=JournalConfig(path=tmp_path / "journal.sqlite3"),
        market_data=MarketDataConfig(symbols=symbols or GLOBAL_DEV_SYMBOLS, streaming=False),
        venue=VenueConfig(kind=VenueKind.GLOBAL, **venue),  # type: ignore[arg-type]
    )


@pytest.fixture
def global_venue(tmp_path: Path) -> Iterator[VenueLink]:
    with contextlib.ExitStack() as stack:
        yield open_venue(_config(tmp_path), SystemClock(), stack)


def test_the_executor_trades_and_the_poller_quotes_through_the_global_gateway(
    global_venue: VenueLink,
) -> None:
    gateway = global_venue.gateway()
    try:
        assert gateway.deduplicates_client_ids is False
        assert sorted(gateway.products(GLOBAL_DEV_SYMBOLS)) == sorted(GLOBAL_DEV_SYMBOLS)
    finally:
        gateway.close()
    quotes = global_venue.quote_client()
    try:
        (btc,) = quotes.best_bid_ask([GLOBAL_DEV_SYMBOLS[0]])
    finally:
        quotes.close()
    assert btc.product_id == GLOBAL_DEV_SYMBOLS[0]
    assert btc.mid is not None
    assert btc.mid > 0
    assert global_venue.user_ws_url is None  # the venue's own user channels instead


def test_the_user_feed_follows_orders_and_their_fills_on_the_gateways_user_channels(
    global_venue: VenueLink,
) -> None:
    told: list[object] = []
    assert global_venue.user_channels is not None
    channel = global_venue.user_channels(told.append, GLOBAL_DEV_SYMBOLS)
    gateway = global_venue.gateway()
    try:
        assert channel.start()
        eventually(lambda: channel.healthy, what="the user channels subscribed")
        gateway.products(GLOBAL_DEV_SYMBOLS)
        order_id = gateway.create_order(
            NewOrder(
                client_order_id="pb-user-feed", symbol=GLOBAL_DEV_SYMBOLS[0], side=Side.BUY,
                size=Decimal(1), order_type=OrderType.MARKET, time_in_force=TimeInForce.IOC,
            )
        )  # fmt: skip

        def reported() -> list[UserFillReport]:
            received = [m for m in list(told) if isinstance(m, UserOrdersReceived)]
            return [f for m in received for f in m.fills if f.venue_order_id == order_id]

        fills = eventually(reported, what="the order's fills on the user channel")
        assert sum(f.size for f in fills) == Decimal(1)
    finally:
        channel.stop()
        gateway.close()


def test_symbols_are_checked_against_the_global_gateway(
    global_venue: VenueLink, tmp_path: Path
) -> None:
    check_symbols(_config(tmp_path), global_venue)
    with pytest.raises(InvalidConfigError, match="'BIP-20DEC30-CDE'"):
        check_symbols(_config(tmp_path, "BIP-20DEC30-CDE"), global_venue)


def test_a_global_venue_with_advanced_trade_urls_is_refused_naming_them(tmp_path: Path) -> None:
    with pytest.raises(
        InvalidConfigError,
        match=r"venue.rest_base_url, venue.market_ws_url must be unset with venue.kind 'global',"
        r" which takes its endpoints from venue.global_http_url",
    ):
        _config(
            tmp_path, rest_base_url="http://127.0.0.1:1/api/v3/brokerage",
            market_ws_url="ws://127.0.0.1:1/ws",
        )  # fmt: skip
