"""The venues the executor's fault tests run on, each as a :class:`Venue`: Advanced Trade
(client order ids deduplicated, a user channel) and the Global Derivatives gateway (labels not
deduplicated, orders followed by polls on the test's clock), with the Advanced Trade side's
faults in each venue's terms."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import attrs

from perpsbot.clock import FakeClock
from perpsbot.sim import SimConfig, SimExchange
from perpsbot.sim.gateway import SimGlobalGateway
from perpsbot.venue.advanced_trade import AdvancedTradeGateway
from perpsbot.venue.gateway import VenueOrder
from tests.actors.execution.executor_harness import Harness, start_executor
from tests.actors.execution.global_venue import GLOBAL_BTC, GlobalSource, global_gateway

#: The venues, as ``open_venue`` names them: the Global gateway with its orders followed by
#: polls only, and with the user channels as well (``global-streamed``).
VENUES = ("advanced_trade", "global", "global-streamed")


@attrs.define
class Venue:
    """One venue the executor trades on, as the fault tests need it."""

    name: str
    sim: SimExchange
    symbol: str
    size: str
    start: Callable[[Path, Callable[[str], None]], Harness]
    """Starts the executor's tree on this venue with an order-path ``faults`` hook."""
    orders: Callable[[Harness, str], list[VenueOrder]]
    """The venue's orders for an intent (by its client order id), in the bot's terms."""
    lose_answers: Callable[[int], None]
    """The venue carries out the next orders and their answers are lost."""
    throttle_orders: Callable[[], None]
    """The next order is refused for the rate limit on every attempt the client makes."""
    fills_unreadable: Callable[[], None]
    """Reading an order's fills fails (5xx, ``internal_server_error``) until cleared."""
    clear_faults: Callable[[], None]
    polled: bool = False
    """No user channel: the executor follows its orders by polls, on the test's clock."""
    sim_gateway: SimGlobalGateway | None = None
    deduplicates: bool = True
    """The venue recognises a reused client order id."""


def _advanced_trade(stack: contextlib.ExitStack) -> Venue:
    sim = stack.enter_context(
        SimExchange(SimConfig(verify_auth=False, tick_interval_s=None, seed=11))
    )

    def lose_ack(count: int) -> None:
        # The lookups cannot see the order yet either: the executor dies not knowing.
        sim.faults.lose_order_ack(count)
        sim.faults.delay_order_visibility(0.3)

    return Venue(
        name="advanced_trade", sim=sim, symbol="BTC-USD", size="0.002",
        start=lambda path, faults: start_executor(sim, path, faults=faults),
        orders=lambda bot, coid: [
            AdvancedTradeGateway(bot.rest).get_order(o.order_id)
            for o in bot.rest.list_orders() if o.client_order_id == coid
        ],
        lose_answers=lose_ack,
        throttle_orders=lambda: sim.faults.http_error(429, count=4, path="/orders"),
        fills_unreadable=lambda: sim.faults.http_error(
            500, count=10_000, path="/orders/historical/fills"
        ),
        clear_faults=sim.faults.clear,
    )  # fmt: skip


def _global(stack: contextlib.ExitStack, *, streamed: bool = False) -> Venue:
    clock = FakeClock()
    sim = stack.enter_context(
        SimExchange(SimConfig(verify_auth=False, tick_interval_s=None, seed=11), clock=clock)
    )
    gateway = stack.enter_context(contextlib.contextmanager(global_gateway)(sim))
    source = GlobalSource(gateway, clock)
    stack.callback(source.close)

    def lose_answers(count: int) -> None:
        # The lookups cannot see the order for a second of the venue's (the test's) time.
        gateway.faults.lose_answers(count)
        gateway.faults.delay_order_visibility(1.0)

    return Venue(
        name="global-streamed" if streamed else "global", sim=sim, symbol=GLOBAL_BTC, size="2",
        start=lambda path, faults: start_executor(
            sim, path, clock=clock, symbols=(GLOBAL_BTC,), faults=faults, user_channel=False,
            gateways=source, user_channels=source.user_channel if streamed else None,
        ),
        orders=lambda _bot, coid: source.orders(coid),
        lose_answers=lose_answers,
        # Orders are sent once. Only the order: with the user channels, their socket's
        # heartbeat answers would otherwise take the fault whenever they come first.
        throttle_orders=lambda: gateway.faults.too_many_requests(1, orders_only=True),
        fills_unreadable=lambda: gateway.faults.refuse_method(
            "private/get_user_trades_by_order", 10_000
        ),
        clear_faults=gateway.faults.clear,
        polled=True, sim_gateway=gateway, deduplicates=False,
    )  # fmt: skip


@contextlib.contextmanager
def open_venue(name: str) -> Iterator[Venue]:
    """The venue ``name`` (one of :data:`VENUES`), stopped on exit."""
    with contextlib.ExitStack() as stack:
        if name == "global-streamed":
            yield _global(stack, streamed=True)
        else:
            yield {"advanced_trade": _advanced_trade, "global": _global}[name](stack)
