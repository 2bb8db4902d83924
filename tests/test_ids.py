from __future__ import annotations

from perpsbot.ids import CLIENT_ORDER_ID_PREFIX, client_order_id, is_our_client_order_id


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
