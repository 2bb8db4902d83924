"""The Global Derivatives gateway's endpoints (``venue.global_*``): none is the embedded
simulated gateway, all three a separately running one, and with ``--live`` the production
hosts; real orders need ``--live`` as they do on Advanced Trade."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from perpsbot.config import GLOBAL_PRODUCTION, GlobalEndpoints, cli, global_endpoints, load_config
from perpsbot.errors import InvalidConfigError

WriteToml = Callable[[str], Path]

GATEWAY = (
    'global_http_url = "http://127.0.0.1:9001/api/v2"\n'
    'global_trading_ws_url = "ws://127.0.0.1:9002/ws/api/v2"\n'
    'global_streams_ws_url = "ws://127.0.0.1:9003/ws/api/v2"\n'
)


def _check(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="perpsbot config")
    cli.configure_parser(parser)
    return cli.run(parser.parse_args(["check", *argv]))


def test_the_three_endpoints_name_a_separately_running_gateway(write_toml: WriteToml) -> None:
    config = load_config(write_toml(f'[venue]\nkind = "global"\n{GATEWAY}'), env={})

    assert global_endpoints(config.venue, live=config.live) == GlobalEndpoints(
        http_url="http://127.0.0.1:9001/api/v2",
        trading_ws_url="ws://127.0.0.1:9002/ws/api/v2",
        streams_ws_url="ws://127.0.0.1:9003/ws/api/v2",
    )


def test_no_endpoint_is_the_embedded_simulated_gateway() -> None:
    config = load_config(profile="global-dev", env={})

    assert global_endpoints(config.venue, live=False) is None


def test_the_production_defaults_are_the_documented_hosts(
    credentials_env: dict[str, str],
) -> None:
    env = {**credentials_env, "PERPSBOT_VENUE_KIND": "global"}
    config = load_config(profile="canary", env=env, live=True)

    # docs/venues/global-derivatives.md 1.2
    assert global_endpoints(config.venue, live=config.live) == GlobalEndpoints(
        http_url="https://drb.coinbase.com/api/v2",
        trading_ws_url="wss://drb.coinbase.com/ws/api/v2",
        streams_ws_url="wss://streams.drb.coinbase.com/ws/api/v2",
    )


def test_a_bad_endpoint_is_refused_naming_what_was_expected_and_found(
    write_toml: WriteToml,
) -> None:
    path = write_toml('[venue]\nkind = "global"\nglobal_trading_ws_url = "drb.coinbase.com"\n')

    with pytest.raises(InvalidConfigError) as raised:
        load_config(path, env={})

    assert str(raised.value) == (
        "venue.global_trading_ws_url must be a wss://... URL or a ws://... URL or unset,"
        f" was 'drb.coinbase.com' (from {path})"
    )


def test_some_endpoints_without_the_others_are_refused_naming_the_missing(
    write_toml: WriteToml,
) -> None:
    path = write_toml('[venue]\nkind = "global"\nglobal_http_url = "http://127.0.0.1:9/api/v2"\n')

    with pytest.raises(InvalidConfigError, match=r"venue.global_trading_ws_url, venue.global_"):
        load_config(path, env={})


def test_the_production_gateway_without_live_is_refused(write_toml: WriteToml) -> None:
    production = GATEWAY.replace("http://127.0.0.1:9001/api/v2", GLOBAL_PRODUCTION.http_url)
    path = write_toml(f'[venue]\nkind = "global"\n{production}')

    with pytest.raises(InvalidConfigError) as raised:
        load_config(path, env={})

    assert str(raised.value) == (
        "venue.global_* must name a gateway outside coinbase.com without"
        " --live (real orders need profile 'canary' or 'prod' with --live), was"
        " venue.global_http_url = 'https://drb.coinbase.com/api/v2'"
    )


@pytest.mark.parametrize("host", ["DRB.Coinbase.com", "drb.coinbase.com.", "other.coinbase.com"])
def test_any_coinbase_host_however_written_is_refused_without_live(
    write_toml: WriteToml, host: str
) -> None:
    path = write_toml(f'[venue]\nkind = "global"\n{GATEWAY.replace("127.0.0.1:9002", host)}')

    with pytest.raises(InvalidConfigError, match=f"outside coinbase.com without --live.*{host}"):
        load_config(path, env={})


def test_live_with_only_some_endpoints_is_refused_rather_than_mixed_with_production(
    write_toml: WriteToml, credentials_env: dict[str, str]
) -> None:
    path = write_toml(
        '[venue]\nkind = "global"\nglobal_streams_ws_url = "ws://127.0.0.1:9003/ws/api/v2"\n'
    )

    with pytest.raises(InvalidConfigError, match=r"venue.global_http_url, venue.global_trading"):
        load_config(path, profile="canary", env=credentials_env, live=True)


def test_endpoints_of_the_gateway_with_another_kind_are_refused(write_toml: WriteToml) -> None:
    with pytest.raises(InvalidConfigError, match=r"with venue.kind 'sim' \(the Global"):
        load_config(write_toml(f"[venue]\n{GATEWAY}"), env={})


def test_config_check_passes_a_file_naming_the_gateway_and_a_live_one_with_its_key(
    write_toml: WriteToml,
    credentials_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = write_toml(f'profile = "global-dev"\n[venue]\n{GATEWAY}')
    assert _check(str(path)) == 0
    for name, value in credentials_env.items():
        monkeypatch.setenv(name, value)
    live = write_toml('[venue]\nkind = "global"\n[market_data]\nsymbols = ["BTC_USDC-PERPETUAL"]\n')
    assert _check(str(live), "--profile", "canary", "--live") == 0
    assert capsys.readouterr().out == "ok\nok\n"


def test_the_readmes_live_global_file_loads_live_on_the_production_gateway(
    write_toml: WriteToml, credentials_env: dict[str, str]
) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = re.search(r"```toml\n(# perpsbot run --config global\.toml.*?)```", readme, re.S)
    assert block, "README shows no global.toml"

    config = load_config(
        write_toml(block.group(1)), profile="canary", env=credentials_env, live=True
    )

    assert global_endpoints(config.venue, live=config.live) == GLOBAL_PRODUCTION
    assert config.market_data.symbols == ("BTC_USDC-PERPETUAL",)
