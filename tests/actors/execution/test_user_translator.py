"""The user feed's translator: health from what the feed does, orders told as they come."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

import attrs
import pytest

from perpsbot.actors.execution._user_translator import UserTranslator
from perpsbot.clock import FakeClock
from perpsbot.errors import InvalidMessageError
from perpsbot.messages import (
    FeedDisconnected,
    FeedGapDetected,
    FeedSubscribed,
    UserFeedChanged,
    UserOrderReport,
    UserOrdersReceived,
)
from perpsbot.runtime import ActorAddress
from perpsbot.venue import (
    HeartbeatFrame,
    UserEvent,
    UserFrame,
    UserOrderUpdate,
)

_STAMP: dict[str, Any] = {"message_id": "m", "ts_created_ns": 0, "feed": "user"}


class Inbox:
    """Stands in for the executor's address: keeps what it is told."""

    def __init__(self) -> None:
        self.told: list[Any] = []

    def tell(self, message: Any) -> None:
        self.told.append(message)


def _translator(inbox: Inbox, alive: list[bool] | None = None) -> UserTranslator:
    flag = alive if alive is not None else [True]
    return UserTranslator(
        executor=cast(ActorAddress, inbox), clock=FakeClock(), owner_alive=lambda: flag[0]
    )


def _frame(*statuses: str, snapshot: bool = False) -> UserFrame:
    orders = tuple(
        UserOrderUpdate(
            order_id=f"o{i}", client_order_id=f"c{i}", product_id="BTC-USD", side="BUY",
            order_type="MARKET", status=status, cumulative_quantity=Decimal(0),
            leaves_quantity=Decimal(1), avg_price=None, limit_price=None, total_fees=Decimal(0),
            filled_value=None, number_of_fills=0, post_only=False, reject_reason="",
            cancel_reason="", ts_created_ns=None,
        )
        for i, status in enumerate(statuses)
    )  # fmt: skip
    events = (UserEvent(is_snapshot=snapshot, orders=orders),)
    return UserFrame(sequence_num=1, ts_event_ns=0, events=events)


def test_the_feed_is_healthy_from_its_first_user_frame_not_from_subscribing() -> None:
    inbox = Inbox()
    translator = _translator(inbox)
    translator.on_status(FeedSubscribed(**_STAMP, channels=("user",), product_ids=()))
    translator.on_frame(HeartbeatFrame(sequence_num=0, ts_event_ns=0, counter=1))
    assert inbox.told == []
    translator.on_frame(_frame("OPEN", snapshot=True))
    translator.on_frame(_frame("FILLED"))
    healthy, snapshot, update = inbox.told
    assert healthy == UserFeedChanged(healthy=True, detail="user channel updates flow")
    assert isinstance(snapshot, UserOrdersReceived)
    assert snapshot.snapshot
    assert isinstance(update, UserOrdersReceived)
    assert [o.status for o in update.orders] == ["FILLED"]


def test_a_gap_or_a_disconnect_makes_it_unhealthy_until_the_next_frame() -> None:
    inbox = Inbox()
    translator = _translator(inbox)
    translator.on_frame(_frame("OPEN"))
    translator.on_status(FeedGapDetected(**_STAMP, expected=3, found=5))
    translator.on_status(FeedDisconnected(**_STAMP, reason="reset"))
    translator.on_frame(_frame("OPEN"))
    health = [m for m in inbox.told if isinstance(m, UserFeedChanged)]
    assert [(m.healthy, m.detail) for m in health] == [
        (True, "user channel updates flow"),
        (False, "sequence gap: expected 3, found 5"),
        (False, "disconnected: reset"),
        (True, "user channel updates flow"),
    ]


def test_a_replaced_executors_feed_goes_quiet_and_stops() -> None:
    inbox, alive, stopped = Inbox(), [True], []
    translator = _translator(inbox, alive)
    translator.bind_feed(lambda: stopped.append(True))
    alive[0] = False
    translator.on_frame(_frame("OPEN"))
    translator.on_status(FeedDisconnected(**_STAMP, reason="reset"))
    assert inbox.told == []
    assert stopped == [True]


def test_orders_reach_the_executor_as_the_bots_records_and_a_negative_size_is_left_out() -> None:
    inbox = Inbox()
    translator = _translator(inbox)
    frame = _frame("OPEN", "FILLED", "OPEN")
    good, filled, bad = frame.events[0].orders
    filled = attrs.evolve(filled, cumulative_quantity=Decimal("0.5"), avg_price=Decimal("101.5"))
    bad = attrs.evolve(bad, cumulative_quantity=Decimal(-1))
    translator.on_frame(
        attrs.evolve(frame, events=(attrs.evolve(frame.events[0], orders=(good, filled, bad)),))
    )
    (received,) = [m for m in inbox.told if isinstance(m, UserOrdersReceived)]
    assert received.orders == (
        UserOrderReport(
            venue_order_id="o0", client_order_id="c0", status="OPEN", filled_size=Decimal(0),
            average_price=None,
        ),
        UserOrderReport(
            venue_order_id="o1", client_order_id="c1", status="FILLED",
            filled_size=Decimal("0.5"), average_price=Decimal("101.5"),
        ),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("filled_size", Decimal(-1)),
        ("filled_size", Decimal("NaN")),
        ("average_price", Decimal("-2")),
    ],
)
def test_an_order_report_with_an_impossible_size_or_price_cannot_exist(
    field: str, value: Decimal
) -> None:
    fields: dict[str, Any] = {
        "venue_order_id": "o", "client_order_id": "c", "status": "OPEN",
        "filled_size": Decimal(0), "average_price": None, field: value,
    }  # fmt: skip
    with pytest.raises(
        InvalidMessageError, match=rf"UserOrderReport\.{field} must be a finite Decimal >= 0, was"
    ):
        UserOrderReport(**fields)
