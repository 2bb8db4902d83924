from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

import perpsbot.config
from perpsbot.config import (
    SECTION_TYPES,
    Channel,
    Credentials,
    Profile,
    config_keys,
    env_var,
    load_config,
)
from perpsbot.errors import InvalidConfigError

WriteToml = Callable[[str], Path]


def test_file_values_override_profile_defaults(write_toml: WriteToml) -> None:
    path = write_toml('[market_data]\nshort_ma = 8\nsymbols = ["BIP-20DEC30-CDE"]\n')

    config = load_config(path, profile=None, env={})

    assert config.market_data.short_ma == 8
    assert config.market_data.symbols == ("BIP-20DEC30-CDE",)
    assert config.market_data.long_ma == 20


def test_environment_overrides_the_file(write_toml: WriteToml) -> None:
    path = write_toml("[market_data]\nshort_ma = 8\n[risk]\nmax_leverage = 2\n")
    env = {"PERPSBOT_MARKET_DATA_SHORT_MA": "9"}

    config = load_config(path, profile=None, env=env)

    assert config.market_data.short_ma == 9
    assert config.risk.max_leverage == Decimal(2)


def test_file_overrides_the_profile_defaults_of_canary(
    write_toml: WriteToml, credentials_env: dict[str, str]
) -> None:
    path = write_toml("[risk]\nmax_position_usd = 750\n")

    config = load_config(path, profile="canary", env=credentials_env, live=True)

    assert config.risk.max_position_usd == Decimal(750)
    assert config.risk.daily_loss_limit_usd == Decimal(10)


def test_environment_strings_are_read_as_the_key_types() -> None:
    env = {
        "PERPSBOT_MARKET_DATA_SYMBOLS": "BTC-USD, ETH-USD ,SOL-USD",
        "PERPSBOT_MARKET_DATA_STREAMING": "off",
        "PERPSBOT_MARKET_DATA_CHANNEL": "ticker",
        "PERPSBOT_MARKET_DATA_STALE_AFTER_S": "2.5",
        "PERPSBOT_RISK_DAILY_LOSS_LIMIT_USD": "12.34",
        "PERPSBOT_RISK_KILL_SWITCH": "YES",
        "PERPSBOT_JOURNAL_PATH": "/srv/perpsbot/journal.sqlite3",
        "PERPSBOT_SIM_REST_PORT": "8443",
    }

    config = load_config(None, profile=None, env=env)

    assert config.market_data.symbols == ("BTC-USD", "ETH-USD", "SOL-USD")
    assert config.market_data.streaming is False
    assert config.market_data.channel is Channel.TICKER
    assert config.market_data.stale_after_s == 2.5
    assert config.risk.daily_loss_limit_usd == Decimal("12.34")
    assert config.risk.kill_switch is True
    assert config.journal.path == Path("/srv/perpsbot/journal.sqlite3")
    assert config.sim.rest_port == 8443


def test_toml_numbers_become_exact_decimals_for_money(write_toml: WriteToml) -> None:
    path = write_toml("[strategy]\ntrailing_stop_pct = 0.015\nposition_fraction = '0.1'\n")

    strategy = load_config(path, profile=None, env={}).strategy

    assert strategy.trailing_stop_pct == Decimal("0.015")
    assert strategy.position_fraction == Decimal("0.1")


def test_empty_environment_value_unsets_an_optional_key(write_toml: WriteToml) -> None:
    path = write_toml('[venue]\nrest_base_url = "http://127.0.0.1:9000/api/v3/brokerage"\n')

    config = load_config(path, profile=None, env={"PERPSBOT_VENUE_REST_BASE_URL": ""})

    assert config.venue.rest_base_url is None


def test_environment_variable_names_follow_section_and_key() -> None:
    assert env_var("market_data", "short_ma") == "PERPSBOT_MARKET_DATA_SHORT_MA"


def test_environment_variables_outside_the_perpsbot_prefix_are_ignored() -> None:
    config = load_config(None, profile=None, env={"HOME": "/root", "SHORT_MA": "x"})

    assert config == load_config(None, profile=None, env={})


def test_profile_argument_wins_over_environment_and_file(
    write_toml: WriteToml, credentials_env: dict[str, str]
) -> None:
    path = write_toml('profile = "prod"\n')
    env = {**credentials_env, "PERPSBOT_PROFILE": "canary"}

    assert load_config(path, profile="dev", env={}).profile is Profile.DEV
    assert load_config(path, profile=None, env=env, live=True).profile is Profile.CANARY
    assert load_config(path, profile=None, env=credentials_env, live=True).profile is (Profile.PROD)


def test_unknown_key_in_a_section_is_rejected(write_toml: WriteToml) -> None:
    path = write_toml("[market_data]\nshort_mas = 3\n")

    with pytest.raises(InvalidConfigError) as caught:
        load_config(path, profile=None, env={})

    assert str(caught.value) == (
        f"market_data has no key 'short_mas' (set in {path}); expected one of: symbols,"
        " streaming, channel, update_interval_s, poll_interval_s, stale_after_s, short_ma,"
        " long_ma"
    )


def test_unknown_section_in_the_file_is_rejected(write_toml: WriteToml) -> None:
    path = write_toml("[marketdata]\nshort_ma = 3\n")

    with pytest.raises(InvalidConfigError, match=r"unknown key 'marketdata'; expected 'profile'"):
        load_config(path, profile=None, env={})


def test_section_that_is_not_a_table_is_rejected(write_toml: WriteToml) -> None:
    path = write_toml("risk = 3\n")

    with pytest.raises(InvalidConfigError, match=r"risk must be a table \(\[risk\]\)"):
        load_config(path, profile=None, env={})


def test_unknown_environment_key_is_rejected() -> None:
    with pytest.raises(InvalidConfigError) as caught:
        load_config(None, profile=None, env={"PERPSBOT_RISK_MAX_LEVERAGES": "2"})

    assert str(caught.value).startswith(
        "risk has no key 'max_leverages' (set in PERPSBOT_RISK_MAX_LEVERAGES)"
    )


def test_environment_variable_without_a_section_is_rejected() -> None:
    with pytest.raises(InvalidConfigError, match="PERPSBOT_MARKETDATA_SHORT_MA is not a perpsbot"):
        load_config(None, profile=None, env={"PERPSBOT_MARKETDATA_SHORT_MA": "2"})


def test_live_cannot_come_from_the_file_or_the_environment(write_toml: WriteToml) -> None:
    path = write_toml("live = true\n")

    with pytest.raises(InvalidConfigError) as caught:
        load_config(path, profile=None, env={"PERPSBOT_LIVE": "1"})

    message = str(caught.value)
    assert f"live must come from the command line (--live), never from {path}" in message
    assert "never from PERPSBOT_LIVE" in message


@pytest.mark.parametrize("key", ["api_key_name", "api_private_key", "credentials"])
def test_secrets_in_the_file_are_rejected(write_toml: WriteToml, key: str) -> None:
    path = write_toml(f'[venue]\n{key} = "-----BEGIN EC PRIVATE KEY-----"\n')

    with pytest.raises(InvalidConfigError) as caught:
        load_config(path, profile=None, env={})

    assert str(caught.value) == (
        f"venue.{key} must come from PERPSBOT_VENUE_API_KEY_NAME and"
        f" PERPSBOT_VENUE_API_PRIVATE_KEY or from venue.api_key_file, never from {path}"
    )
    assert "BEGIN" not in str(caught.value)


def test_missing_file_is_reported_with_its_path(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"

    with pytest.raises(InvalidConfigError) as caught:
        load_config(path, profile=None, env={})

    assert str(caught.value) == (
        "config file must be a readable UTF-8 text file of at most 1 MiB,"
        f" was '{path}' (No such file or directory)"
    )


def test_malformed_toml_is_reported_with_its_path(write_toml: WriteToml) -> None:
    path = write_toml("[risk\n")

    with pytest.raises(
        InvalidConfigError, match=re.escape(f"config file must be valid TOML, was '{path}' (")
    ):
        load_config(path, profile=None, env={})


def test_credentials_come_from_the_environment(credentials_env: dict[str, str]) -> None:
    config = load_config(None, profile="prod", env=credentials_env, live=True)

    assert config.venue.credentials == Credentials(
        key_name=credentials_env["PERPSBOT_VENUE_API_KEY_NAME"],
        private_key_pem=credentials_env["PERPSBOT_VENUE_API_PRIVATE_KEY"],
    )


def test_credentials_come_from_the_cdp_key_file(
    write_toml: WriteToml, tmp_path: Path, credentials_env: dict[str, str]
) -> None:
    pem = credentials_env["PERPSBOT_VENUE_API_PRIVATE_KEY"]
    key_file = tmp_path / "cdp_api_key.json"
    key_file.write_text(json.dumps({"name": "organizations/o/apiKeys/k", "privateKey": pem}))
    path = write_toml(f'[venue]\napi_key_file = "{key_file}"\n')

    config = load_config(path, profile="prod", env={}, live=True)

    assert config.venue.api_key_file == key_file
    assert config.venue.credentials == Credentials(
        key_name="organizations/o/apiKeys/k", private_key_pem=pem
    )


def test_environment_credentials_win_over_the_key_file(
    tmp_path: Path, credentials_env: dict[str, str]
) -> None:
    env = {**credentials_env, "PERPSBOT_VENUE_API_KEY_FILE": str(tmp_path / "absent.json")}

    config = load_config(None, profile="prod", env=env, live=True)

    assert config.venue.credentials is not None
    assert config.venue.credentials.key_name == credentials_env["PERPSBOT_VENUE_API_KEY_NAME"]


def test_unreadable_key_file_is_reported_with_its_path(tmp_path: Path) -> None:
    key_file = tmp_path / "absent.json"

    with pytest.raises(InvalidConfigError) as caught:
        load_config(None, profile=None, env={"PERPSBOT_VENUE_API_KEY_FILE": str(key_file)})

    assert str(caught.value) == (
        "venue.api_key_file must be a readable UTF-8 text file of at most 1 MiB,"
        f" was '{key_file}' (No such file or directory)"
    )


@pytest.mark.parametrize(
    ("content", "reason"),
    [("not json", "not JSON"), ('{"name": "organizations/o/apiKeys/k"}', "a key is missing")],
)
def test_malformed_key_file_is_reported_without_its_content(
    tmp_path: Path, content: str, reason: str
) -> None:
    key_file = tmp_path / "key.json"
    key_file.write_text(content)

    with pytest.raises(InvalidConfigError) as caught:
        load_config(None, profile=None, env={"PERPSBOT_VENUE_API_KEY_FILE": str(key_file)})

    assert str(caught.value).endswith(f"was '{key_file}' ({reason})")


def test_half_of_the_credential_variables_is_rejected(credentials_env: dict[str, str]) -> None:
    env = {"PERPSBOT_VENUE_API_KEY_NAME": credentials_env["PERPSBOT_VENUE_API_KEY_NAME"]}

    with pytest.raises(InvalidConfigError) as caught:
        load_config(None, profile=None, env=env)

    assert str(caught.value) == (
        "PERPSBOT_VENUE_API_KEY_NAME and PERPSBOT_VENUE_API_PRIVATE_KEY must be set together"
    )


def test_example_dev_file_loads_to_the_dev_defaults() -> None:
    example = Path(perpsbot.config.__file__).parent / "examples" / "dev.toml"

    config = load_config(example, profile=None, env={})

    assert config == load_config(None, profile="dev", env={})


def test_toml_integers_are_accepted_where_seconds_are_expected(write_toml: WriteToml) -> None:
    path = write_toml("[venue]\nrequest_timeout_s = 3\n")

    timeout_s = load_config(path, profile=None, env={}).venue.request_timeout_s

    assert timeout_s == 3.0
    assert isinstance(timeout_s, float)


def test_example_dev_file_shows_every_key() -> None:
    example = Path(perpsbot.config.__file__).parent / "examples" / "dev.toml"

    document = tomllib.loads(example.read_text(encoding="utf-8"))

    for section, kind in SECTION_TYPES.items():
        shown = set(document[section])
        # optional keys without a default appear as comments
        commented = {f.name for f in config_keys(kind) if f.default is None}
        assert {f.name for f in config_keys(kind)} - commented == shown - commented, section
