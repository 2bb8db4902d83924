"""The trading socket's user channel as the executor's messages, against the simulated
gateway: orders reported in the bot's terms, and a reconnect that makes the executor poll and
reconcile."""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal

from perpsbot.clock import SystemClock
from perpsbot.messages import Reconcile, UserFeedChanged, UserOrdersReceived
from perpsbot.runtime.testing import eventually
from perpsbot.sim.gateway import SimGlobalGateway
from perpsbot.venue.global_derivatives import GlobalDerivativesClient, RpcHttp, RpcSocket
from perpsbot.venue.global_derivatives.user_channel import (
    GlobalUserTranslator,
    user_order_channels,
)
from tests.venue.global_derivatives.conftest import BTC, Notices

MakeSocket = Callable[..., tuple[RpcSocket, Notices]]
SIZES = {BTC: Decimal("0.01")}


class Told:
    """What the translator told the executor, in order."""

    def __init__(self) -> None:
        self.messages: list[object] = []
        self.changed = threading.Event()

    def __call__(self, message: object) -> None:
        self.messages.append(message)
        self.changed.set()

    def of(self, kind: type) -> list[object]:
        return [m for m in list(self.messages) if isinstance(m, kind)]


def _connected(make_socket: MakeSocket, gateway: SimGlobalGateway) -> tuple[RpcSocket, Told]:
    told = Told()
    translator = GlobalUserTranslator(tell=told, clock=SystemClock(), contract_sizes=SIZES)
    trading, _ = make_socket(
        gateway.trading_ws_url,
        on_notice=translator.on_notice,
        on_connected=translator.on_connected,
    )
    trading.subscribe(user_order_channels(SIZES))
    return trading, told


def test_an_order_is_reported_to_the_executor_in_contracts_and_status_words(
    gateway: SimGlobalGateway, make_socket: MakeSocket, http: RpcHttp
) -> None:
    trading, told = _connected(make_socket, gateway)
    client = GlobalDerivativesClient(http=http, trading=trading)
    placed = client.place("buy", BTC, Decimal(3), label="pb-user", order_type="market").order

    def filled() -> list[object]:
        return [
            r
            for m in told.of(UserOrdersReceived)
            for r in m.orders  # type: ignore[attr-defined]
            if r.status == "FILLED"
        ]

    (report,) = eventually(filled, what="the order reported filled")
    assert (report.venue_order_id, report.client_order_id) == (placed.order_id, "pb-user")
    assert report.filled_size == Decimal(3)
    first = told.messages[0]
    assert isinstance(first, UserFeedChanged)
    assert first.healthy


def test_a_reconnect_makes_the_channel_unhealthy_and_asks_for_a_reconciliation(
    gateway: SimGlobalGateway, make_socket: MakeSocket
) -> None:
    _, told = _connected(make_socket, gateway)
    gateway.faults.drop_connections()
    eventually(lambda: told.of(Reconcile), what="a reconciliation asked for")
    (changed,) = told.of(UserFeedChanged)
    assert isinstance(changed, UserFeedChanged)
    assert not changed.healthy
    assert "reconnected" in changed.detail
