from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from perpsbot.config import BotConfig, Profile, VenueKind, load_config
from perpsbot.errors import InvalidConfigError


def test_no_file_and_no_environment_gives_the_dev_profile_on_the_simulated_exchange() -> None:
    config = load_config(None, profile=None, env={})

    assert config.profile is Profile.DEV
    assert config.live is False
    assert config.venue.kind is VenueKind.SIM
    assert config.venue.credentials is None
    assert config.risk.max_position_usd == Decimal(10_000)
    assert config.journal.path == Path("var/dev/journal.sqlite3")


def test_dev_profile_samples_often_enough_to_trade_within_minutes_in_small_entries() -> None:
    config = load_config(None, profile="dev", env={})

    assert (config.market_data.short_ma, config.market_data.long_ma) == (5, 20)
    assert config.market_data.update_interval_s == 2.0
    assert config.strategy.max_trade_usd == Decimal(2_000)
    assert config.strategy.max_trade_usd <= config.risk.max_order_usd
    assert 2 * config.strategy.max_trade_usd <= config.risk.max_exposure_usd  # both symbols
    assert config.strategy.trailing_stop_pct == Decimal("0.01")
    assert config.strategy.position_fraction == Decimal("0.05")
    assert config.risk.max_leverage == Decimal(3)
    assert config.risk.kill_switch is False


def test_dev_profile_trades_the_perp_style_futures_long_and_short_at_a_modest_leverage() -> None:
    config = load_config(None, profile="dev", env={})

    assert config.market_data.symbols == ("BIP-20DEC30-CDE", "ETP-20DEC30-CDE")
    assert config.strategy.enable_shorts is True
    assert config.strategy.leverage == Decimal(2)
    # Within the leverage caps risk applies: max_leverage, and 1 / the simulated exchange's
    # strictest margin rate (its overnight short rate of 0.306375 allows 3.26x).
    assert config.strategy.leverage <= config.risk.max_leverage
    assert config.strategy.leverage <= 1 / Decimal("0.306375")


def test_dev_profile_uses_the_coinbase_request_budgets() -> None:
    venue = load_config(None, profile="dev", env={}).venue

    assert venue.private_per_s == 30.0
    assert venue.public_per_s == 10.0
    assert venue.websocket_connects_per_s == 8.0


def test_canary_profile_trades_one_symbol_without_leverage_and_a_small_loss_limit(
    credentials_env: dict[str, str],
) -> None:
    config = load_config(None, profile="canary", env=credentials_env, live=True)

    assert config.venue.kind is VenueKind.COINBASE
    assert config.market_data.symbols == ("BTC-USD",)
    assert config.risk.max_leverage == Decimal(1)
    assert config.risk.daily_loss_limit_usd == Decimal(10)
    assert config.risk.max_position_usd == Decimal(500)
    assert config.journal.path == Path("var/canary/journal.sqlite3")


def test_prod_profile_trades_on_coinbase_with_full_limits(
    credentials_env: dict[str, str],
) -> None:
    config = load_config(None, profile="prod", env=credentials_env, live=True)

    assert config.venue.kind is VenueKind.COINBASE
    assert config.risk.max_position_usd == Decimal(50_000)
    assert config.venue.credentials is not None


@pytest.mark.parametrize("profile", ["canary", "prod"])
def test_live_profile_without_live_flag_is_rejected(
    profile: str, credentials_env: dict[str, str]
) -> None:
    with pytest.raises(InvalidConfigError) as caught:
        load_config(None, profile=profile, env=credentials_env)

    assert str(caught.value) == (
        f"profile '{profile}' trades real money and needs an explicit --live, was live=False"
    )


@pytest.mark.parametrize("profile", ["canary", "prod"])
def test_live_profile_without_credentials_is_rejected(profile: str) -> None:
    with pytest.raises(InvalidConfigError, match=r"needs CDP API credentials .*found none"):
        load_config(None, profile=profile, env={}, live=True)


def test_live_profile_without_credentials_or_live_flag_reports_both_problems() -> None:
    with pytest.raises(InvalidConfigError) as caught:
        load_config(None, profile="prod", env={})

    message = str(caught.value)
    assert message.startswith("2 configuration errors:")
    assert "needs an explicit --live" in message
    assert "needs CDP API credentials" in message


def test_live_flag_with_the_dev_profile_is_rejected() -> None:
    with pytest.raises(InvalidConfigError, match="live must be false for profile 'dev'"):
        load_config(None, profile="dev", env={}, live=True)


def test_coinbase_venue_with_the_dev_profile_is_rejected() -> None:
    env = {"PERPSBOT_VENUE_KIND": "coinbase"}

    with pytest.raises(InvalidConfigError) as caught:
        load_config(None, profile="dev", env=env)

    assert str(caught.value) == (
        "venue.kind 'coinbase' places real orders and needs profile 'canary' or 'prod'"
        " with --live, was profile 'dev'"
    )


def test_canary_profile_may_rehearse_on_the_simulated_exchange(
    credentials_env: dict[str, str],
) -> None:
    env = {**credentials_env, "PERPSBOT_VENUE_KIND": "sim"}

    config = load_config(None, profile="canary", env=env, live=True)

    assert config.venue.kind is VenueKind.SIM


def test_unknown_profile_is_rejected_naming_the_choices() -> None:
    with pytest.raises(InvalidConfigError) as caught:
        load_config(None, profile="staging", env={})

    assert str(caught.value) == (
        "profile (from --profile) must be one of 'dev', 'canary', 'prod', 'global-dev', was"
        " 'staging'"
    )


def test_bot_config_built_directly_applies_the_same_profile_rules() -> None:
    with pytest.raises(InvalidConfigError, match="needs an explicit --live"):
        BotConfig(profile=Profile.PROD)


def test_a_strategy_leverage_past_the_risk_cap_is_refused_at_load_naming_both_keys() -> None:
    env = {"PERPSBOT_STRATEGY_LEVERAGE": "4"}

    with pytest.raises(InvalidConfigError) as caught:
        load_config(None, profile="dev", env=env)

    assert str(caught.value) == (
        "strategy.leverage must be at most risk.max_leverage (3), was '4': risk denies an"
        " entry whose leverage passes the cap, so this strategy's entries on futures could"
        " never pass risk"
    )
    raised = {**env, "PERPSBOT_RISK_MAX_LEVERAGE": "4"}
    assert load_config(None, profile="dev", env=raised).strategy.leverage == Decimal(4)
