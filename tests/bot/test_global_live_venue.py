"""``venue.kind = "global"`` with the gateway's endpoints configured (``venue.global_*``): the
bot reaches a separately running gateway with the configured CDP key, as it reaches
Coinbase's production gateway live. Here the "live" gateway is a simulated one started apart
from the bot, trusting only the configured key."""

from __future__ import annotations

import argparse
import contextlib
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from perpsbot.bot import account_cli, open_venue, order_cli
from perpsbot.bot._global import GlobalVenue
from perpsbot.clock import FakeClock, SystemClock
from perpsbot.config import BotConfig, load_config
from perpsbot.errors import VenueAuthError
from perpsbot.ids import client_order_id
from perpsbot.runtime.testing import eventually
from perpsbot.sim import SimConfig, SimExchange
from perpsbot.sim.gateway import SimGlobalGateway
from perpsbot.venue import CdpCredentials
from tests.bot.control.global_tree import ENGINE_PERP, MARK, PERP
from tests.bot.control.trading_tree import trading_bot
from tests.support.keys import make_key_pems

KEY_NAME = "organizations/org-1/apiKeys/key-1"


@pytest.fixture
def key() -> tuple[str, str]:
    """The bot's CDP key: its private PEM and the public PEM the gateway trusts."""
    return make_key_pems()


@pytest.fixture
def sim(key: tuple[str, str]) -> Iterator[SimExchange]:
    """An exchange running apart from the bot, which checks the bot's key."""
    config = SimConfig(
        public_keys_pem=(key[1],), tick_interval_s=None, seed=5,
        balances=(("USD", Decimal(100_000)),),
    )  # fmt: skip
    with SimExchange(config) as sim:
        yield sim


@pytest.fixture
def gateway(sim: SimExchange) -> Iterator[SimGlobalGateway]:
    """Its Global Derivatives gateway: the bot's "live" venue."""
    with SimGlobalGateway(sim) as gateway:
        yield gateway


def _file(tmp_path: Path, gateway: SimGlobalGateway) -> Path:
    path = tmp_path / "bot.toml"
    path.write_text(
        'profile = "global-dev"\n'
        "[venue]\n"
        f'global_http_url = "{gateway.http_url}"\n'
        f'global_trading_ws_url = "{gateway.trading_ws_url}"\n'
        f'global_streams_ws_url = "{gateway.streams_ws_url}"\n'
        "[journal]\n"
        f'path = "{tmp_path / "journal.sqlite3"}"\n',
        encoding="utf-8",
    )
    return path


def _env(private_pem: str) -> dict[str, str]:
    """The key as the bot reads it for Advanced Trade too."""
    return {"PERPSBOT_VENUE_API_KEY_NAME": KEY_NAME, "PERPSBOT_VENUE_API_PRIVATE_KEY": private_pem}


def _config(tmp_path: Path, gateway: SimGlobalGateway, private_pem: str) -> BotConfig:
    return load_config(_file(tmp_path, gateway), env=_env(private_pem))


def test_a_bot_configured_with_the_gateways_endpoints_places_an_order_there_and_sees_it_filled(
    tmp_path: Path, sim: SimExchange, gateway: SimGlobalGateway, key: tuple[str, str]
) -> None:
    config = _config(tmp_path, gateway, key[0])
    clock = FakeClock()
    with contextlib.ExitStack() as stack:
        link = open_venue(config, clock, stack)
        assert link.embedded is None  # no simulated exchange of the bot's own
        path = tmp_path / "j.sqlite3"
        with trading_bot(sim, path, clock=clock, symbol=PERP, mark=MARK, link=link) as bot:
            coid = client_order_id(bot.intent(size="1").intent_id)

            def status() -> str | None:
                rows = [r for r in bot.ops().orders() if r["client_order_id"] == coid]
                return rows[0]["status"] if rows else None

            # Followed on the gateway's user channels (the trading socket configured).
            eventually(lambda: status() == "filled", timeout_s=10, what="the order filled")
        venue_gateway = link.gateway()
        try:
            (position,) = venue_gateway.account(venue_gateway.products([PERP])).positions
        finally:
            venue_gateway.close()
    assert position.symbol == PERP
    assert position.quantity == Decimal(1)


def test_the_gateway_sees_the_configured_key_and_refuses_one_it_does_not_trust(
    tmp_path: Path, gateway: SimGlobalGateway
) -> None:
    stranger = make_key_pems()[0]
    config = _config(tmp_path, gateway, stranger)
    with contextlib.ExitStack() as stack:
        venue_gateway = open_venue(config, SystemClock(), stack).gateway()
        stack.callback(venue_gateway.close)
        products = venue_gateway.products([PERP])  # public: no key needed
        with pytest.raises(VenueAuthError):
            venue_gateway.account(products)


def _cli(module: object, argv: list[str], monkeypatch: pytest.MonkeyPatch, private_pem: str) -> int:
    for name, value in _env(private_pem).items():
        monkeypatch.setenv(name, value)
    parser = argparse.ArgumentParser()
    module.configure_parser(parser)  # type: ignore[attr-defined]
    code: int = module.run(parser.parse_args(argv))  # type: ignore[attr-defined]
    return code


def test_account_and_order_preview_read_the_configured_gateway(
    tmp_path: Path,
    gateway: SimGlobalGateway,
    key: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = str(_file(tmp_path, gateway))

    assert _cli(account_cli, ["--config", path, "--json"], monkeypatch, key[0]) == 0
    account = json.loads(capsys.readouterr().out)
    assert account["venue"] == f"Global Derivatives gateway {gateway.http_url}"
    assert account["account"]["currency"] == "USDC"

    argv = ["preview", PERP, "buy", "--size", "1", "--config", path, "--json"]
    assert _cli(order_cli, argv, monkeypatch, key[0]) == 0
    preview = json.loads(capsys.readouterr().out)
    assert preview["venue"] == f"Global Derivatives gateway {gateway.http_url}"
    assert preview["preview"]["problems"] == []


def test_streamed_marks_come_from_the_configured_streams_socket(
    tmp_path: Path, sim: SimExchange, gateway: SimGlobalGateway, key: tuple[str, str]
) -> None:
    sim.step_to({ENGINE_PERP: Decimal(61_234)})  # a price of this gateway's only
    quotes = GlobalVenue(
        http_url=gateway.http_url, credentials=CdpCredentials(KEY_NAME, key[0]),
        clock=SystemClock(), request_timeout_s=2.0,
    ).quotes()  # fmt: skip
    try:
        (top,) = quotes.best_bid_ask([PERP])  # the market stands still (no ticks)
    finally:
        quotes.close()
    offered: list[Decimal] = []
    with contextlib.ExitStack() as stack:
        link = open_venue(_config(tmp_path, gateway, key[0]), FakeClock(), stack)
        assert link.market_marks is not None
        feed = link.market_marks(lambda _, pending, __: offered.append(pending.mark), (PERP,))
        stack.callback(feed.start().stop)
        eventually(lambda: offered, what="a mark from the streams socket")
    assert top.mid is not None
    assert abs(top.mid - 61_234) < 100
    assert offered[0] == top.mid
