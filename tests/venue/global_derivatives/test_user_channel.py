"""The trading socket's user channels as the executor's messages, against the simulated
gateway: orders and their trades reported in the bot's terms, and a dropped socket that makes
the executor poll, then reconcile once it is back (healthy, restating nothing)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal
from typing import TypeVar

from perpsbot.clock import SystemClock
from perpsbot.messages import Side, UserFeedChanged, UserOrdersReceived
from perpsbot.runtime.testing import eventually
from perpsbot.sim.gateway import SimGlobalGateway
from perpsbot.venue.global_derivatives import GlobalDerivativesClient, RpcHttp, RpcSocket
from perpsbot.venue.global_derivatives.user_channel import GlobalUserTranslator, user_channels
from tests.venue.global_derivatives.conftest import BTC, Notices

T = TypeVar("T")
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

    def of(self, kind: type[T]) -> list[T]:
        return [m for m in list(self.messages) if isinstance(m, kind)]


def _connected(make_socket: MakeSocket, gateway: SimGlobalGateway) -> tuple[RpcSocket, Told]:
    told = Told()
    translator = GlobalUserTranslator(tell=told, clock=SystemClock(), contract_sizes=SIZES)
    trading, _ = make_socket(
        gateway.trading_ws_url,
        on_notice=translator.on_notice,
        on_connected=translator.on_connected,
        on_disconnected=translator.on_disconnected,
    )
    trading.subscribe(user_channels(SIZES))
    eventually(lambda: translator.healthy, what="the user channels subscribed")
    return trading, told


def test_an_order_is_reported_to_the_executor_in_contracts_and_status_words(
    gateway: SimGlobalGateway, make_socket: MakeSocket, http: RpcHttp
) -> None:
    trading, told = _connected(make_socket, gateway)
    client = GlobalDerivativesClient(http=http, trading=trading)
    placed = client.place("buy", BTC, Decimal(3), label="pb-user", order_type="market").order

    def filled() -> list[object]:
        return [r for m in told.of(UserOrdersReceived) for r in m.orders if r.status == "FILLED"]

    (report,) = eventually(filled, what="the order reported filled")
    assert (report.venue_order_id, report.client_order_id) == (placed.order_id, "pb-user")
    assert report.filled_size == Decimal(3)
    first = told.messages[0]
    assert isinstance(first, UserFeedChanged)
    assert first.healthy


def test_an_orders_trades_are_reported_as_its_fills_in_contracts(
    gateway: SimGlobalGateway, make_socket: MakeSocket, http: RpcHttp
) -> None:
    trading, told = _connected(make_socket, gateway)
    client = GlobalDerivativesClient(http=http, trading=trading)
    placed = client.place("sell", BTC, Decimal(2), label="pb-fills", order_type="market")

    def fills() -> list[object]:
        return [f for m in told.of(UserOrdersReceived) for f in m.fills]

    reported = eventually(fills, what="the trades reported")
    assert {f.fill_id for f in reported} == {t.trade_id for t in placed.trades}
    assert sum(f.size for f in reported) == Decimal(2)
    assert {(f.venue_order_id, f.side) for f in reported} == {(placed.order.order_id, Side.SELL)}


def test_a_dropped_socket_is_unhealthy_at_once_then_healthy_again_restating_nothing(
    gateway: SimGlobalGateway, make_socket: MakeSocket
) -> None:
    _, told = _connected(make_socket, gateway)
    gateway.faults.drop_connections()
    eventually(lambda: len(told.of(UserFeedChanged)) == 3, what="healthy again")
    health = [(m.healthy, m.detail) for m in told.of(UserFeedChanged)]
    assert [healthy for healthy, _ in health] == [True, False, True]
    assert health[1][1] == "the trading socket closed"
    # No snapshot: the executor reconciles once the channel is healthy after the gap.
    assert not told.of(UserFeedChanged)[2].restates_open_orders


def test_a_late_connect_of_a_connection_that_ended_changes_nothing() -> None:
    told = Told()
    translator = GlobalUserTranslator(tell=told, clock=SystemClock(), contract_sizes=SIZES)
    translator.on_connected(0)
    translator.on_disconnected(0)
    # Connection 0's setup thread reports after its reader reported the end; then connection
    # 1 fails its setup and ends without ever connecting.
    translator.on_connected(0)
    translator.on_disconnected(1)
    assert not translator.healthy
    assert [m.healthy for m in told.of(UserFeedChanged)] == [True, False]
    translator.on_connected(2)
    assert translator.healthy
    assert [m.healthy for m in told.of(UserFeedChanged)] == [True, False, True]
