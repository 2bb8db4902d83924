"""The client's sockets against the simulated gateway: calls, notifications, heartbeats,
reconnection with resubscription, lost answers and bad frames."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from decimal import Decimal

import pytest

from perpsbot.clock import SystemClock
from perpsbot.errors import OrderOutcomeUnknownError
from perpsbot.runtime.testing import eventually
from perpsbot.sim import SimExchange
from perpsbot.sim.gateway import SimGlobalGateway
from perpsbot.venue.auth import JwtSigner
from perpsbot.venue.global_derivatives import (
    GlobalDerivativesClient,
    Notice,
    RpcHttp,
    RpcSocket,
    decode_notice,
)
from perpsbot.venue.global_derivatives.records import BookNotice, FundingNotice, Order, UserTrade
from perpsbot.venue.ratelimit import VenueRateLimiter
from tests.support.keys import make_credentials
from tests.venue.global_derivatives.conftest import BTC, Notices

MakeSocket = Callable[..., tuple[RpcSocket, Notices]]
ORDERS = f"user.orders.{BTC}.raw"


def test_an_order_over_the_trading_socket_reaches_the_user_channels_typed(
    gateway: SimGlobalGateway, make_socket: MakeSocket, http: RpcHttp
) -> None:
    trading, notices = make_socket(gateway.trading_ws_url)
    channels = [ORDERS, f"user.trades.{BTC}.raw", "user.portfolio.usdc"]
    assert trading.subscribe(channels) == channels
    client = GlobalDerivativesClient(http=http, trading=trading)
    placed = client.place("sell", BTC, Decimal(2), label="pb-ws", order_type="market")
    assert gateway.auth_count == 1  # the socket's own: HTTP was never used
    trades = eventually(lambda: notices.on(f"user.trades.{BTC}.raw"), what="a trade notice")
    (fills,) = [decode_notice(n) for n in trades]
    assert isinstance(fills, list)
    assert all(isinstance(t, UserTrade) and t.order_id == placed.order.order_id for t in fills)
    orders = [decode_notice(n) for n in notices.on(ORDERS)]
    assert any(isinstance(o[0], Order) and o[0].label == "pb-ws" for o in orders if o)


def test_the_streams_socket_decodes_a_book_snapshot_its_changes_and_funding(
    gateway: SimGlobalGateway, make_socket: MakeSocket, sim: SimExchange
) -> None:
    streams, notices = make_socket(gateway.streams_ws_url, private=False)
    book, funding = f"book.{BTC}.100ms", f"perpetual.{BTC}.100ms"
    assert streams.subscribe([book, funding]) == [book, funding]
    sim.step(2)
    changes = eventually(lambda: notices.on(book)[2:], what="a snapshot and two changes")
    snapshot, first = (decode_notice(n) for n in notices.on(book)[:2])
    assert isinstance(snapshot, BookNotice)
    assert isinstance(first, BookNotice)
    assert (snapshot.type, first.prev_change_id) == ("snapshot", snapshot.change_id)
    assert changes
    rate = decode_notice(eventually(lambda: notices.on(funding), what="funding")[0])
    assert isinstance(rate, FundingNotice)
    assert isinstance(rate.interest, Decimal)


def test_a_dropped_socket_reconnects_reauthenticates_and_resubscribes(
    gateway: SimGlobalGateway, make_socket: MakeSocket, http: RpcHttp
) -> None:
    reconnected = threading.Event()
    trading, notices = make_socket(
        gateway.trading_ws_url, on_connected=lambda n: n and reconnected.set()
    )
    trading.subscribe([ORDERS])
    gateway.faults.drop_connections()
    assert reconnected.wait(5.0)
    assert (trading.reconnects, gateway.auth_count) == (1, 2)
    client = GlobalDerivativesClient(http=http, trading=trading)
    client.place("buy", BTC, Decimal(1), label="pb-again", order_type="market")
    eventually(lambda: notices.on(ORDERS), what="the order on the resubscribed channel")


def test_a_socket_dropped_with_an_order_in_flight_leaves_it_unknown_and_placed(
    gateway: SimGlobalGateway, make_socket: MakeSocket, http: RpcHttp, sim: SimExchange
) -> None:
    trading, _ = make_socket(gateway.trading_ws_url)
    client = GlobalDerivativesClient(http=http, trading=trading)
    gateway.faults.lose_answers()
    outcome: list[BaseException] = []

    def place() -> None:
        try:
            client.place("buy", BTC, Decimal(1), label="pb-flight", order_type="market")
        except OrderOutcomeUnknownError as exc:
            outcome.append(exc)

    placing = threading.Thread(target=place)
    placing.start()
    eventually(lambda: len(sim.engine.fills) > 0, what="the order carried out")
    gateway.faults.drop_connections()
    placing.join(5.0)
    assert [type(e) for e in outcome] == [OrderOutcomeUnknownError]
    assert [o.label for o in client.order_state_by_label("BTC", "pb-flight")] == ["pb-flight"]


def test_a_lost_answer_with_the_socket_open_is_unknown_at_the_deadline(
    gateway: SimGlobalGateway, make_socket: MakeSocket, http: RpcHttp
) -> None:
    trading, _ = make_socket(gateway.trading_ws_url, timeout_s=0.3)
    gateway.faults.lose_answers()
    client = GlobalDerivativesClient(http=http, trading=trading)
    with pytest.raises(OrderOutcomeUnknownError, match=r"no answer in 0\.3s"):
        client.place("buy", BTC, Decimal(1), label="pb-silent", order_type="market")


def test_a_malformed_frame_is_counted_and_the_socket_goes_on(
    gateway: SimGlobalGateway, make_socket: MakeSocket
) -> None:
    trading, _ = make_socket(gateway.trading_ws_url)
    gateway.faults.malformed_frame()
    gateway.faults.malformed_frame('{"jsonrpc":"2.0","method":"subscription","params":{}}')
    eventually(lambda: trading.frames_bad == 2, what="two bad frames counted")
    assert trading.call("public/get_time", {}) > 0
    assert trading.reconnects == 0


def test_a_frame_over_the_cap_is_counted_and_skipped(
    gateway: SimGlobalGateway, make_socket: MakeSocket
) -> None:
    trading, _ = make_socket(gateway.trading_ws_url, max_frame_bytes=1000)
    heartbeat = {"type": "heartbeat", "pad": "x" * 1000}  # well-formed, only too large
    gateway.faults.malformed_frame(
        json.dumps({"jsonrpc": "2.0", "method": "heartbeat", "params": heartbeat})
    )
    eventually(lambda: trading.frames_bad == 1, what="the large frame counted")
    assert trading.call("public/get_time", {}) > 0


def test_a_notification_of_the_wrong_shape_is_counted(
    gateway: SimGlobalGateway, make_socket: MakeSocket
) -> None:
    bad = (
        '{"jsonrpc":"2.0","method":"subscription",'
        '"params":{"channel":"user.portfolio.usdc","data":{"x":1}}}'
    )

    def strict(notice: Notice) -> None:
        decode_notice(notice)

    trading, _ = make_socket(gateway.trading_ws_url, on_notice=strict)
    gateway.faults.malformed_frame(bad)
    eventually(lambda: trading.frames_bad == 1, what="the bad notification counted")


def test_a_test_request_is_answered_with_public_test(
    gateway: SimGlobalGateway, make_socket: MakeSocket
) -> None:
    trading, _ = make_socket(gateway.trading_ws_url)
    gateway.faults.test_request()
    eventually(lambda: gateway.tests_answered == 1, what="public/test received by the venue")
    eventually(lambda: trading.tests_answered == 1, what="public/test's answer received")


@pytest.mark.slow  # long: heartbeats come at their real interval
def test_heartbeats_keep_a_quiet_socket_open(
    gateway: SimGlobalGateway, make_socket: MakeSocket
) -> None:
    # The venue closes a socket that has not answered by its next beat: half a second to
    # answer holds even on a loaded machine.
    streams, _ = make_socket(gateway.streams_ws_url, private=False, heartbeat_s=0.5)
    eventually(lambda: streams.tests_answered >= 3, what="three heartbeats answered")
    assert streams.reconnects == 0


def test_a_socket_whose_key_the_venue_refuses_is_never_ready_and_says_why(
    gateway: SimGlobalGateway, sim: SimExchange, budget: VenueRateLimiter
) -> None:
    stranger, _ = make_credentials()
    socket = RpcSocket(
        url=gateway.trading_ws_url,
        signer=JwtSigner(stranger, clock=sim.clock),
        limiter=budget,
        clock=SystemClock(),
        on_notice=Notices(),
    ).start()
    try:
        eventually(lambda: "13004" in socket.setup_error, what="the refusal recorded")
        assert not socket.ready
    finally:
        socket.stop()
