"""SimConfig refuses bad settings with messages that name the key, the rule and the value."""

from __future__ import annotations

from decimal import Decimal

import pytest

from perpsbot.errors import InvalidConfigError
from perpsbot.sim import SimConfig


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"rest_port": 70000}, "sim.rest_port must be a port in 0..65535, was 70000"),
        ({"tick_interval_s": 0}, "sim.tick_interval_s must be > 0, was 0"),
        ({"fill_model": "queue"}, "sim.fill_model must be 'touch' or 'through', was 'queue'"),
        ({"jwt_leeway_s": -1}, "sim.jwt_leeway_s must be >= 0, was -1"),
    ],
)
def test_bad_settings_are_refused_with_the_rule(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidConfigError) as caught:
        SimConfig(verify_auth=False, **overrides)

    assert str(caught.value) == message


def test_money_settings_become_decimals() -> None:
    config = SimConfig(verify_auth=False, balances={"USD": "12.5"}, cfm_usd_balance="100.10")

    assert config.balances == (("USD", Decimal("12.5")),)
    assert config.cfm_usd_balance == Decimal("100.10")


def test_a_missing_tick_interval_means_manual_steps_only() -> None:
    assert SimConfig(verify_auth=False, tick_interval_s=None).tick_interval_s is None
