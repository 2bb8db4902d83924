"""The one reduce-only predicate, and the executor's check of the trading state by it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from perpsbot.actors.execution._reduce_only import Refusal, only_reduces, refusal
from perpsbot.actors.risk._check import OrderCheck
from perpsbot.messages import IntentPurpose, OrderIntent, Side, TradingState

D = Decimal


def _check(state: TradingState | None, **changes: Any) -> Refusal | None:
    args: dict[str, Any] = {
        "state": state, "reasons": (), "reconciled": True, "symbol": "BTC-USD",
        "side": Side.SELL, "size": D("0.5"), "position": D(1),
        "reducing_in_flight": D(0), "purpose": IntentPurpose.ENTRY,
    }  # fmt: skip
    return refusal(**{**args, **changes})


def test_nothing_passes_before_the_startup_reconciliation() -> None:
    refused = _check(TradingState.ACTIVE, reconciled=False)
    assert refused is not None
    assert refused.rule == "reconciliation_pending"


def test_halted_refuses_even_a_reduction_naming_why() -> None:
    refused = _check(TradingState.HALTED, reasons=("operator: maintenance",))
    assert refused == Refusal(
        rule="halted",
        reason="trading is HALTED (operator: maintenance): only cancels are accepted",
    )


def test_active_lets_entries_through() -> None:
    assert _check(TradingState.ACTIVE, side=Side.BUY, size=D(5)) is None


@pytest.mark.parametrize("state", [TradingState.ACTIVE, TradingState.REDUCING, None])
def test_an_exit_never_exceeds_the_position_minus_the_exits_in_flight_in_any_state(
    state: TradingState | None,
) -> None:
    # Long 1 with an exit of 1 still unsettled (its fills not booked): a second exit of 1
    # would sell what the bot does not hold (trading-core review, finding 1).
    exit_ = {"side": Side.SELL, "size": D(1), "purpose": IntentPurpose.EXIT}
    assert _check(state, **exit_, position=D(1), reducing_in_flight=D(0)) is None
    refused = _check(state, **exit_, position=D(1), reducing_in_flight=D(1))
    assert refused is not None
    assert refused.rule == "reduce_only"
    assert "with 1 already being reduced" in refused.reason


@pytest.mark.parametrize("state", [TradingState.REDUCING, None])
@pytest.mark.parametrize(
    "case",
    [
        (Side.SELL, "1", "1", "0", True),  # closes the long exactly
        (Side.SELL, "1.00000001", "1", "0", False),  # would flip it
        (Side.SELL, "0.6", "1", "0.4", True),  # with what is already being sold
        (Side.SELL, "0.6", "1", "0.41", False),
        (Side.BUY, "0.1", "1", "0", False),  # grows a long
        (Side.BUY, "2", "-2", "0", True),  # closes a short
        (Side.SELL, "0.1", "0", "0", False),  # opens from flat
    ],
)
def test_reducing_passes_only_what_shrinks_the_position(
    state: TradingState | None, case: tuple[Side, str, str, str, bool]
) -> None:
    side, size, position, in_flight, passes = case
    refused = _check(
        state, side=side, size=D(size), position=D(position), reducing_in_flight=D(in_flight)
    )
    assert (refused is None) is passes
    if refused is not None:
        assert refused.rule == "reduce_only"


@given(
    side=st.sampled_from(Side),
    size=st.decimals(min_value=D("0.01"), max_value=D(10), places=2),
    position=st.decimals(min_value=D(-10), max_value=D(10), places=2),
    in_flight=st.decimals(min_value=D(0), max_value=D(10), places=2),
)
def test_risk_and_the_executor_decide_an_exit_by_the_same_predicate(
    side: Side, size: Decimal, position: Decimal, in_flight: Decimal
) -> None:
    intent = OrderIntent(
        message_id="m", ts_created_ns=0, intent_id="i", symbol="BTC-USD", side=side, size=size,
        purpose=IntentPurpose.EXIT, reference_mark=D(100), reason="test", valid_until_ns=1,
    )  # fmt: skip
    on_side = {"open_sell": in_flight} if side is Side.SELL else {"open_buy": in_flight}
    check = OrderCheck(intent=intent, mark=D(100), mark_age_s=0.0, position=position,
                       product=None, **on_side)  # fmt: skip
    executor = _check(
        TradingState.ACTIVE, side=side, size=size, position=position,
        reducing_in_flight=in_flight, purpose=IntentPurpose.EXIT,
    )  # fmt: skip
    assert check.reduces is only_reduces(side, size, position, in_flight)
    assert check.reduces is (executor is None)
