"""The executor's own check of the trading state, at its boundaries."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from perpsbot.actors._gate import Refusal, refusal
from perpsbot.messages import Side, TradingState

D = Decimal


def _check(state: TradingState | None, **changes: Any) -> Refusal | None:
    args: dict[str, Any] = {
        "state": state, "reasons": (), "reconciled": True, "symbol": "BTC-USD",
        "side": Side.SELL, "size": D("0.5"), "position": D(1),
        "reducing_in_flight": D(0),
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


def test_active_lets_everything_through() -> None:
    assert _check(TradingState.ACTIVE, side=Side.BUY, size=D(5)) is None


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
