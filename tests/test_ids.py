from __future__ import annotations

import threading

from perpsbot.ids import (
    CLIENT_ORDER_ID_PREFIX,
    ThreadOrderedIds,
    acting_as,
    client_order_id,
    is_our_client_order_id,
)


def test_a_client_order_id_is_the_same_for_the_same_intent_and_differs_between_intents() -> None:
    first = client_order_id("BTC-USD:entry:42")
    assert first == client_order_id("BTC-USD:entry:42")
    assert first != client_order_id("BTC-USD:entry:43")


def test_our_client_order_ids_carry_a_prefix_reconciliation_recognises() -> None:
    coid = client_order_id("BTC-USD:entry:42")
    assert coid.startswith(CLIENT_ORDER_ID_PREFIX)
    assert len(coid) == len(CLIENT_ORDER_ID_PREFIX) + 32
    assert is_our_client_order_id(coid)
    assert not is_our_client_order_id("11111-000000-000000")  # placed by hand
    assert not is_our_client_order_id(CLIENT_ORDER_ID_PREFIX + "not-hex")
    assert not is_our_client_order_id(coid + "0")


def test_thread_ordered_ids_number_the_role_a_thread_acts_as_apart_from_its_own_name() -> None:
    ids = ThreadOrderedIds("bt")
    before = acting_as("StrategyActor")
    try:
        made = [ids.next_id(), ids.next_id()]
        acting_as("RiskActor")
        made.append(ids.next_id())
    finally:
        acting_as(before)
    made.append(ids.next_id())

    thread = threading.current_thread().name
    assert made == ["bt-StrategyActor-1", "bt-StrategyActor-2", "bt-RiskActor-1", f"bt-{thread}-1"]


def test_thread_ordered_ids_number_each_thread_role_apart_whatever_ran_before() -> None:
    ids = ThreadOrderedIds("bt")
    seen: list[str] = []

    def make(name: str) -> None:
        thread = threading.Thread(target=lambda: seen.extend([ids.next_id(), ids.next_id()]))
        thread.name = name
        thread.start()
        thread.join()

    make("StrategyActor-17")
    make("RiskActor-3")
    make("StrategyActor-42")  # a later incarnation of the same role goes on counting

    assert seen == [
        "bt-StrategyActor-1", "bt-StrategyActor-2", "bt-RiskActor-1", "bt-RiskActor-2",
        "bt-StrategyActor-3", "bt-StrategyActor-4",
    ]  # fmt: skip
