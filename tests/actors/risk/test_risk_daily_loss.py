"""The daily loss limit against the UTC day, on the fake clock's wall time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from perpsbot.clock import FakeClock
from perpsbot.messages import CancelAllOrders, Side, TradingState, VenuePosition
from perpsbot.runtime.testing import wait_drained
from tests.actors.risk.risk_tree import Tree, tree
from tests.actors.trading import (
    D,
    account,
    all_of_type,
    bot_config,
    fill,
    intent,
    of_type,
    sample,
    sampled,
)

__all__ = ["tree"]  # the fixture
ACTIVE, REDUCING = TradingState.ACTIVE, TradingState.REDUCING


@pytest.fixture
def clock() -> FakeClock:
    """Two minutes before midnight UTC, 2026-01-01."""
    midnight = int(datetime(2026, 1, 2, tzinfo=UTC).timestamp()) * 10**9
    return FakeClock(wall_start_ns=midnight - 120 * 10**9)


def test_the_daily_loss_reduces_cancels_entries_and_clears_at_the_utc_day_boundary(
    tree: Tree,
) -> None:
    tree.start(bot_config(risk={"daily_loss_limit_usd": D(100), "max_mark_age_s": 300.0}))
    tree.activate(mark=100)
    tree.tell(fill(Side.BUY, 10, 100))
    assert tree.snapshot(2, 100, 90).state is ACTIVE  # -100 USD: at the limit
    tree.tell(sampled(3, sample([100, 90, "89.99"])))  # -100.10 USD
    state = tree.state(REDUCING)
    assert state.reasons == (
        "daily loss 100.10 USD exceeds daily_loss_limit_usd 100 (until the UTC day ends)",
    )
    cancel = of_type(tree.executor, CancelAllOrders)
    assert cancel.entries_only
    assert tree.denied(intent(Side.BUY, "0.1")).rule == "reduce_only"
    tree.clock.advance(120.0)  # midnight: a new UTC day
    tree.state(ACTIVE)
    wait_drained(tree.risk)
    wait_drained(tree.system.address("bot/executor"))  # a second cancel would show now
    assert len(all_of_type(tree.executor, CancelAllOrders)) == 1


def test_funding_the_venue_accrues_at_the_hour_counts_toward_the_daily_loss(tree: Tree) -> None:
    tree.start(bot_config(risk={"daily_loss_limit_usd": D(100), "max_mark_age_s": 300.0}))
    tree.activate(mark=100)
    tree.tell(fill(Side.BUY, 10, 100))

    def venue(accrued: str) -> VenuePosition:
        return VenuePosition(
            symbol="BTC-USD", quantity=D(10), average_entry_price=D(100), contract_size=D(1),
            accrued_funding=D(accrued),
        )  # fmt: skip

    tree.tell(account(10_000, venue("0")))  # before the funding hour: the baseline
    assert tree.snapshot(2, 100, "90.02").daily_pnl == D("-99.80")
    assert tree.state(ACTIVE)
    tree.tell(account(10_000, venue("-0.30")))  # the hour's funding, as the venue shows it

    snapshot = tree.snapshot(3, 100, "90.02")

    assert snapshot.daily_pnl == D("-100.10")
    assert tree.state(REDUCING).reasons == (
        "daily loss 100.10 USD exceeds daily_loss_limit_usd 100 (until the UTC day ends)",
    )
