from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from tests.support.keys import GARBAGE_PEM

from perpsbot.config import (
    SECTION_TYPES,
    Credentials,
    MarketDataConfig,
    RiskConfig,
    RuntimeConfig,
    SimConfig,
    config_keys,
    env_var,
    load_config,
)
from perpsbot.errors import InvalidConfigError

WriteToml = Callable[[str], Path]

SYMBOLS = (
    "a non-empty list of distinct product ids like 'BTC-USD', 'BIP-20DEC30-CDE' or"
    " 'BTC_USDC-PERPETUAL'"
)
INTERVAL = "a number of seconds from 0.001 to 86400"
USD = "a positive number at most 1000000000"
LOOPBACK = (
    "a loopback address (127.x.x.x or localhost; the simulated exchange trusts whoever reaches it)"
)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "VENUE_KIND",
            "paper",
            "venue.kind must be one of 'sim', 'coinbase', 'global', was 'paper'",
        ),
        (
            "VENUE_REST_BASE_URL",
            "api.coinbase.com",
            "venue.rest_base_url must be a https://... URL or a http://... URL or unset,"
            " was 'api.coinbase.com'",
        ),
        (
            "VENUE_MARKET_WS_URL",
            "https://example.test",
            "venue.market_ws_url must be a wss://... URL or a ws://... URL or unset,"
            " was 'https://example.test'",
        ),
        (
            "VENUE_REQUEST_TIMEOUT_S",
            "0",
            "venue.request_timeout_s must be a positive number of seconds at most 300, was '0'",
        ),
        (
            "VENUE_PRIVATE_PER_S",
            "-1",
            "venue.private_per_s must be a rate per second from 0.01 to 10000, was '-1'",
        ),
        (
            "VENUE_WEBSOCKET_CONNECTS_PER_S",
            "inf",
            "venue.websocket_connects_per_s must be a rate per second from 0.01 to 10000,"
            " was 'inf'",
        ),
        ("SIM_HOST", " ", f"sim.host must be {LOOPBACK}, was ' '"),
        ("SIM_HOST", "10.0.0.8", f"sim.host must be {LOOPBACK}, was '10.0.0.8'"),
        ("SIM_HOST", "0.0.0.0", f"sim.host must be {LOOPBACK}, was '0.0.0.0'"),
        (
            "SIM_REST_PORT",
            "70000",
            "sim.rest_port must be a port number from 0 (any free port) to 65535, was '70000'",
        ),
        (
            "SIM_SEED",
            "-1",
            "sim.seed must be an integer from 0 to 18446744073709551615, was '-1'",
        ),
        ("SIM_VERIFY_AUTH", "maybe", "sim.verify_auth must be true or false, was 'maybe'"),
        (
            "SIM_PUBLIC_PER_S",
            "0",
            "sim.public_per_s must be a positive integer at most 10000, was '0'",
        ),
        (
            "SIM_PRIVATE_PER_S",
            "10001",
            "sim.private_per_s must be a positive integer at most 10000, was '10001'",
        ),
        ("MARKET_DATA_SYMBOLS", "btc-usd", f"market_data.symbols must be {SYMBOLS}, was 'btc-usd'"),
        (
            "MARKET_DATA_SYMBOLS",
            "BTC-USD,BTC-USD",
            f"market_data.symbols must be {SYMBOLS}, was 'BTC-USD,BTC-USD'",
        ),
        (
            "MARKET_DATA_SYMBOLS",
            "BTC_USDC",
            f"market_data.symbols must be {SYMBOLS}, was 'BTC_USDC'",
        ),
        ("MARKET_DATA_SYMBOLS", ",", f"market_data.symbols must be {SYMBOLS}, was ','"),
        (
            "MARKET_DATA_CHANNEL",
            "level1",
            "market_data.channel must be one of 'level2', 'ticker', 'market_trades', was 'level1'",
        ),
        (
            "MARKET_DATA_UPDATE_INTERVAL_S",
            "soon",
            f"market_data.update_interval_s must be {INTERVAL}, was 'soon'",
        ),
        (
            "MARKET_DATA_POLL_INTERVAL_S",
            "0",
            f"market_data.poll_interval_s must be {INTERVAL}, was '0'",
        ),
        (
            "MARKET_DATA_STALE_AFTER_S",
            "nan",
            f"market_data.stale_after_s must be {INTERVAL}, was 'nan'",
        ),
        (
            "MARKET_DATA_SHORT_MA",
            "-2",
            "market_data.short_ma must be a positive integer at most 10000, was '-2'",
        ),
        (
            "MARKET_DATA_LONG_MA",
            "2.5",
            "market_data.long_ma must be a positive integer at most 10000, was '2.5'",
        ),
        (
            "RUNTIME_WATCHDOG_INTERVAL_S",
            "0",
            f"runtime.watchdog_interval_s must be {INTERVAL}, was '0'",
        ),
        (
            "RUNTIME_MAX_RESTARTS",
            "-1",
            "runtime.max_restarts must be an integer from 0 to 1000, was '-1'",
        ),
        (
            "RUNTIME_RESTART_BUFFER_CAPACITY",
            "0",
            "runtime.restart_buffer_capacity must be a positive integer at most 1000000, was '0'",
        ),
        (
            "RISK_MAX_LEVERAGE",
            "-2",
            "risk.max_leverage must be a positive number at most 100, was '-2'",
        ),
        (
            "RISK_DAILY_LOSS_LIMIT_USD",
            "lots",
            "risk.daily_loss_limit_usd must be a positive number at most 1000000000, was 'lots'",
        ),
        (
            "RISK_MAX_POSITION_USD",
            "0",
            "risk.max_position_usd must be a positive number at most 1000000000, was '0'",
        ),
        (
            "RISK_MAX_LEVERAGE_PER_SYMBOL",
            "BTC-USD=2",
            "risk.max_leverage_per_symbol must be a table of product id = leverage above 0 and"
            ' at most 100, like {"BIP-20DEC30-CDE" = 2}'
            " (PERPSBOT_RISK_MAX_LEVERAGE_PER_SYMBOL=BIP-20DEC30-CDE:2), was 'BTC-USD=2'",
        ),
        (
            "STRATEGY_TRADING_DAYS",
            "mon,funday",
            "strategy.trading_days must be a non-empty list of distinct weekdays among 'mon',"
            " 'tue', 'wed', 'thu', 'fri', 'sat', 'sun', was 'mon,funday'",
        ),
        (
            "STRATEGY_TRADING_START_UTC",
            "25:00",
            "strategy.trading_start_utc must be a UTC time of day 'HH:MM' or unset, was '25:00'",
        ),
        (
            "EXECUTION_INTENT_TTL_S",
            "1e9",
            "execution.intent_ttl_s must be a positive number of seconds at most 3600, was '1e9'",
        ),
        ("RISK_KILL_SWITCH", "2", "risk.kill_switch must be true or false, was '2'"),
        (
            "STRATEGY_TRAILING_STOP_PCT",
            "1",
            "strategy.trailing_stop_pct must be a fraction above 0 and below 1 (0.01 is 1%),"
            " was '1'",
        ),
        (
            "STRATEGY_POSITION_FRACTION",
            "1.5",
            "strategy.position_fraction must be a number above 0 and at most 1, was '1.5'",
        ),
        ("JOURNAL_PATH", "", "journal.path must be a file path, was ''"),
        (
            "JOURNAL_RISK_SNAPSHOT_INTERVAL_S",
            "0",
            "journal.risk_snapshot_interval_s must be a positive number of seconds at most 86400,"
            " was '0'",
        ),
    ],
)
def test_broken_value_is_rejected_naming_key_expectation_and_value(
    variable: str, value: str, message: str
) -> None:
    env = {f"PERPSBOT_{variable}": value}

    with pytest.raises(InvalidConfigError) as caught:
        load_config(None, profile=None, env=env)

    assert str(caught.value) == f"{message} (from PERPSBOT_{variable})"


def test_broken_value_in_the_file_names_the_file(write_toml: WriteToml) -> None:
    path = write_toml("[market_data]\nshort_ma = -2\n")

    with pytest.raises(InvalidConfigError) as caught:
        load_config(path, profile=None, env={})

    assert str(caught.value) == (
        f"market_data.short_ma must be a positive integer at most 10000, was '-2' (from {path})"
    )


def test_wrong_toml_type_is_rejected(write_toml: WriteToml) -> None:
    path = write_toml("[market_data]\nstreaming = 1\nsymbols = [1, 2]\n")

    with pytest.raises(InvalidConfigError) as caught:
        load_config(path, profile=None, env={})

    assert "market_data.streaming must be true or false, was '1'" in str(caught.value)
    assert f"market_data.symbols must be {SYMBOLS}, was '1, 2'" in str(caught.value)


def test_every_broken_value_is_reported_in_one_message() -> None:
    env = {
        "PERPSBOT_MARKET_DATA_SHORT_MA": "-2",
        "PERPSBOT_RISK_MAX_LEVERAGE": "0",
        "PERPSBOT_SIM_REST_PORT": "-1",
    }

    with pytest.raises(InvalidConfigError) as caught:
        load_config(None, profile=None, env=env)

    lines = str(caught.value).splitlines()
    assert lines[0] == "3 configuration errors:"
    assert [line.split(" must ")[0] for line in lines[1:]] == [
        "  - sim.rest_port",
        "  - market_data.short_ma",
        "  - risk.max_leverage",
    ]


def test_short_moving_average_must_be_shorter_than_the_long_one() -> None:
    env = {"PERPSBOT_MARKET_DATA_SHORT_MA": "20"}

    with pytest.raises(InvalidConfigError) as caught:
        load_config(None, profile=None, env=env)

    assert str(caught.value) == (
        "market_data.short_ma must be less than market_data.long_ma (20), was '20'"
    )


def test_watchdog_timeout_must_fit_in_its_interval() -> None:
    with pytest.raises(InvalidConfigError) as caught:
        RuntimeConfig(watchdog_interval_s=1.0, watchdog_timeout_s=2.0)

    assert str(caught.value) == (
        "runtime.watchdog_timeout_s must be at most runtime.watchdog_interval_s (1.0), was '2.0'"
    )


def test_sections_built_directly_are_validated_too() -> None:
    with pytest.raises(InvalidConfigError, match=r"^sim.rest_port must be a port number"):
        SimConfig(rest_port=-5)
    with pytest.raises(InvalidConfigError, match=r"^market_data.short_ma must be a positive"):
        MarketDataConfig(short_ma=0)


def test_config_errors_are_also_value_errors() -> None:
    with pytest.raises(ValueError, match=r"risk\.max_leverage"):
        RiskConfig(max_leverage=Decimal(-1))


def test_float_where_a_decimal_is_expected_is_rejected_when_built_directly() -> None:
    with pytest.raises(InvalidConfigError, match=r"risk.max_leverage must be a positive number"):
        RiskConfig(max_leverage=2.0)  # type: ignore[arg-type]


def test_private_key_that_is_not_pem_is_rejected_without_showing_it() -> None:
    with pytest.raises(InvalidConfigError) as caught:
        Credentials(key_name="organizations/o/apiKeys/k", private_key_pem="hunter2")

    assert str(caught.value) == (
        "venue.api_private_key must be a PEM private key ('-----BEGIN ... PRIVATE KEY-----'),"
        " was a value that is not shown (secret)"
    )
    assert "hunter2" not in str(caught.value)


def test_empty_key_name_is_rejected(credentials_env: dict[str, str]) -> None:
    env = {**credentials_env, "PERPSBOT_VENUE_API_KEY_NAME": ""}

    with pytest.raises(InvalidConfigError, match=r"^venue.api_key_name must be a CDP key name"):
        load_config(None, profile=None, env=env)


def test_boolean_where_a_number_is_expected_is_rejected(write_toml: WriteToml) -> None:
    path = write_toml("[market_data]\nlong_ma = true\n")

    with pytest.raises(InvalidConfigError) as caught:
        load_config(path, profile=None, env={})

    assert str(caught.value) == (
        f"market_data.long_ma must be a positive integer at most 10000, was 'True' (from {path})"
    )


def test_a_whole_number_of_seconds_is_accepted_where_seconds_are_expected() -> None:
    assert MarketDataConfig(stale_after_s=60).stale_after_s == 60.0


def test_per_symbol_leverage_reads_from_a_toml_table_and_from_the_environment(
    write_toml: WriteToml,
) -> None:
    path = write_toml('[risk]\nmax_leverage_per_symbol = { "BIP-20DEC30-CDE" = 2 }\n')
    from_file = load_config(path, profile=None, env={}).risk
    from_env = load_config(
        None, profile=None, env={"PERPSBOT_RISK_MAX_LEVERAGE_PER_SYMBOL": "BIP-20DEC30-CDE:2"}
    ).risk

    assert from_file.max_leverage_per_symbol == (("BIP-20DEC30-CDE", Decimal(2)),)
    assert from_env == from_file
    assert from_file.leverage_cap("BIP-20DEC30-CDE") == Decimal(2)
    assert from_file.leverage_cap("BTC-USD") == Decimal(3)


def test_a_strategy_that_could_never_signal_is_rejected_at_load() -> None:
    env = {"PERPSBOT_MARKET_DATA_LONG_MA": "20", "PERPSBOT_STRATEGY_CONFIRM_BARS": "5"}

    with pytest.raises(InvalidConfigError) as caught:
        load_config(None, profile=None, env=env)

    assert str(caught.value) == (
        "strategy.confirm_bars must be at most 4 with market_data.long_ma = 20 (a signal needs"
        " long_ma + 1 + confirm_bars = 26 samples and the mark window keeps max(short_ma,"
        " long_ma) + 5 = 25), was '5': this strategy could never signal"
    )
    env["PERPSBOT_STRATEGY_CONFIRM_BARS"] = "4"
    assert load_config(None, profile=None, env=env).strategy.confirm_bars == 4


def test_a_trading_window_needs_both_ends() -> None:
    with pytest.raises(InvalidConfigError, match="must be set together"):
        load_config(None, profile=None, env={"PERPSBOT_STRATEGY_TRADING_START_UTC": "22:00"})


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "RUNTIME_WATCHDOG_INTERVAL_S",
            "1e10",
            f"runtime.watchdog_interval_s must be {INTERVAL}, was '1e10'",
        ),
        (
            "MARKET_DATA_STALE_AFTER_S",
            "1e300",
            f"market_data.stale_after_s must be {INTERVAL}, was '1e300'",
        ),
        (
            "RUNTIME_RESTART_BUFFER_CAPACITY",
            "9223372036854775807",
            "runtime.restart_buffer_capacity must be a positive integer at most 1000000,"
            " was '9223372036854775807'",
        ),
        (
            "VENUE_REQUEST_TIMEOUT_S",
            "1e300",
            "venue.request_timeout_s must be a positive number of seconds at most 300, was '1e300'",
        ),
        (
            "RISK_MAX_LEVERAGE",
            "1e9",
            "risk.max_leverage must be a positive number at most 100, was '1e9'",
        ),
        (
            "VENUE_PUBLIC_PER_S",
            "1e-300",
            "venue.public_per_s must be a rate per second from 0.01 to 10000, was '1e-300'",
        ),
        (
            "MARKET_DATA_UPDATE_INTERVAL_S",
            "1e-9",
            f"market_data.update_interval_s must be {INTERVAL}, was '1e-9'",
        ),
        (  # the executor's timers: a 1 ns interval spins the timer thread
            "EXECUTION_RECONCILE_INTERVAL_S",
            "1e-9",
            f"execution.reconcile_interval_s must be {INTERVAL}, was '1e-9'",
        ),
        (
            "EXECUTION_PRODUCT_REFRESH_S",
            "1e-9",
            f"execution.product_refresh_s must be {INTERVAL}, was '1e-9'",
        ),
        (
            "EXECUTION_ORDER_POLL_INTERVAL_S",
            "1e-9",
            "execution.order_poll_interval_s must be a number of seconds from 0.001 to 3600,"
            " was '1e-9'",
        ),
    ],
)
def test_a_value_outside_its_keys_bounds_is_rejected_naming_the_bounds(
    variable: str, value: str, message: str
) -> None:
    with pytest.raises(InvalidConfigError) as caught:
        load_config(None, profile=None, env={f"PERPSBOT_{variable}": value})

    assert str(caught.value) == f"{message} (from PERPSBOT_{variable})"


def test_huge_numbers_in_the_file_are_rejected_as_written(write_toml: WriteToml) -> None:
    path = write_toml(
        "[market_data]\nstale_after_s = 1e300\n"
        "[runtime]\nrestart_buffer_capacity = 9223372036854775807\n"
        "[sim]\nseed = " + "9" * 400 + "\n"
    )

    with pytest.raises(InvalidConfigError) as caught:
        load_config(path, profile=None, env={})

    message = str(caught.value)
    assert f"market_data.stale_after_s must be {INTERVAL}, was '1e+300' (from {path})" in message
    assert "runtime.restart_buffer_capacity must be a positive integer at most 1000000" in message
    assert "sim.seed must be an integer from 0 to 18446744073709551615, was '99999" in message


_NUMERIC_KEYS = [
    (section, field.name)
    for section, kind in SECTION_TYPES.items()
    for field in config_keys(kind)
    if str(field.type).split(" |")[0] in ("int", "float", "Decimal")
]


@pytest.mark.parametrize(("section", "key"), _NUMERIC_KEYS)
def test_every_numeric_key_has_an_upper_bound_that_its_message_states(
    section: str, key: str
) -> None:
    with pytest.raises(InvalidConfigError) as caught:
        load_config(None, profile=None, env={env_var(section, key): "1" + "0" * 30})

    assert str(caught.value).startswith(f"{section}.{key} must be ")
    assert re.search(r"( at most | to | below )\d", str(caught.value)), str(caught.value)


def _rsa_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.mark.parametrize("make_pem", [lambda: GARBAGE_PEM, _rsa_pem], ids=["garbage", "rsa"])
def test_a_private_key_that_is_not_a_usable_cdp_key_is_rejected_without_showing_it(
    make_pem: Callable[[], str],
) -> None:
    pem = make_pem()
    env = {"PERPSBOT_VENUE_API_KEY_NAME": "organizations/o/apiKeys/k"}

    with pytest.raises(InvalidConfigError) as caught:
        load_config(
            None, profile="canary", env={**env, "PERPSBOT_VENUE_API_PRIVATE_KEY": pem}, live=True
        )

    assert str(caught.value) == (
        "venue.api_private_key must be an unencrypted PEM EC P-256 or Ed25519 private key,"
        " was a value that is not shown (secret) and that does not parse as one"
    )
    for line in pem.splitlines()[1:-1]:
        assert line not in str(caught.value)


def test_a_private_key_with_escaped_newlines_is_accepted(credentials_env: dict[str, str]) -> None:
    pem = credentials_env["PERPSBOT_VENUE_API_PRIVATE_KEY"]
    env = {**credentials_env, "PERPSBOT_VENUE_API_PRIVATE_KEY": pem.replace("\n", "\\n")}

    config = load_config(None, profile="prod", env=env, live=True)

    assert config.venue.credentials is not None
