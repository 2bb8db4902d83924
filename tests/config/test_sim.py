"""SimConfig, the simulated exchange's one settings class, refuses bad settings by name."""

from __future__ import annotations

from decimal import Decimal

import pytest

import perpsbot.sim
from perpsbot.config import DuplicateClientOrderId, FillModel, SimConfig
from perpsbot.errors import InvalidConfigError


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"rest_port": 70000},
            "sim.rest_port must be a port number from 0 (any free port) to 65535, was '70000'",
        ),
        (
            {"tick_interval_s": 0},
            "sim.tick_interval_s must be a number of seconds from 0.001 to 86400 or unset, was '0'",
        ),
        ({"fill_model": "queue"}, "sim.fill_model must be one of 'touch', 'through', was 'queue'"),
        (
            {"duplicate_client_order_id": "ignore"},
            "sim.duplicate_client_order_id must be one of 'return_existing', 'reject',"
            " was 'ignore'",
        ),
        ({"jwt_leeway_s": -1}, "sim.jwt_leeway_s must be a number from 0 to 3600, was '-1'"),
        (
            {"heartbeat_interval_s": 1e300},
            "sim.heartbeat_interval_s must be a number of seconds from 0.001 to 86400,"
            " was '1e+300'",
        ),
        (
            {"max_frame_bytes": 2**63},
            "sim.max_frame_bytes must be a positive integer at most 1073741824,"
            " was '9223372036854775808'",
        ),
        ({"balances": {"USD": "-1"}}, "sim.balances['USD'] must be a number >= 0, was '-1'"),
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


def test_the_fill_model_may_be_given_as_text() -> None:
    assert SimConfig(verify_auth=False, fill_model="through").fill_model is FillModel.THROUGH


def test_a_reused_client_order_id_returns_the_existing_order_unless_set_to_reject() -> None:
    assert SimConfig(verify_auth=False).duplicate_client_order_id == "return_existing"
    rejecting = SimConfig(verify_auth=False, duplicate_client_order_id="reject")
    assert rejecting.duplicate_client_order_id is DuplicateClientOrderId.REJECT


def test_the_sim_package_serves_the_same_settings_class() -> None:
    assert perpsbot.sim.SimConfig is SimConfig
