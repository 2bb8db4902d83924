"""An executor on a real loopback exchange, with a real SQLite journal, for the executor tests.

The tree is ``bot`` with ``journal`` (the stand-in journal), ``portfolio`` (the real one: it
books the executor's fills, so orders settle), ``risk`` (a probe that records everything the
executor and the portfolio publish), ``executor`` and ``userfeed`` (the user channel),
rest_for_one as in the bot. Time is a FakeClock: the executor's timers (polls,
reconciliation) fire only when a test advances it; the exchange and the sockets run in real
time.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import attrs

from perpsbot.actors import (
    ExecutorActor,
    ExecutorState,
    JournalActor,
    PortfolioActor,
    UserFeedActor,
    executor_mailbox,
    journal_mailbox,
)
from perpsbot.bot import WIRING
from perpsbot.clock import FakeClock
from perpsbot.config import BotConfig, ExecutionConfig, JournalConfig, MarketDataConfig
from perpsbot.ids import SequentialIds, client_order_id
from perpsbot.journal import JournalReader
from perpsbot.messages import (
    IntentPurpose,
    JournalSynced,
    OrderDenied,
    OrderFilled,
    OrderIntent,
    OrderStatus,
    OrderType,
    OrderUpdated,
    PlaceOrder,
    PositionChanged,
    PositionView,
    ReconciliationCompleted,
    RecordIntent,
    Side,
    SyncJournal,
    TimeInForce,
    TradingState,
    TradingStateChanged,
    TransitionSource,
)
from perpsbot.runtime import (
    ActorAddress,
    ActorContext,
    ActorSystem,
    ChildSpec,
    RestartStrategy,
    SupervisorSpec,
    Wiring,
)
from perpsbot.runtime.testing import Probe, eventually
from perpsbot.sim import SimExchange
from perpsbot.venue import RestClient
from perpsbot.venue.gateway import GatewaySource
from perpsbot.venue.link import UserChannels
from perpsbot.venue.records import OrderRecord
from tests.actors.conftest import Subscriber
from tests.support.sim_clients import sim_rest, venue_link

T = TypeVar("T")


def journal_child(path: Path) -> ChildSpec:
    """The journal of the test tree (it writes the configured ``journal.path``, ``path``)."""
    return ChildSpec(
        name="journal", factory=lambda ctx: JournalActor(context=ctx), mailbox=journal_mailbox
    )


def open_reader(path: Path) -> JournalReader:
    """A read-only view of the journal at ``path`` (the executor's ``JournalView``)."""
    return JournalReader(path)


SPOT = "BTC-USD"
PERP = "BIP-20DEC30-CDE"

#: The bot's wiring among this tree's children; the stand-in risk (the test's probe) is also
#: told the executor's fills, which the bot tells the portfolio, the journal and the reporter.
TREE_WIRING = WIRING.only({"journal", "portfolio", "risk", "executor", "userfeed"}).plus(
    Wiring.of({"executor": {OrderFilled: ("risk",)}})
)


def make_intent(
    clock: FakeClock,
    intent_id: str,
    *,
    symbol: str = SPOT,
    side: Side = Side.BUY,
    size: str = "0.001",
    limit: str | None = None,
    tif: TimeInForce = TimeInForce.IOC,
    purpose: IntentPurpose = IntentPurpose.ENTRY,
    ttl_s: float = 30.0,
    mark: str = "68900",
) -> OrderIntent:
    now = clock.time_ns()
    return OrderIntent(
        message_id=f"intent-{intent_id}",
        ts_created_ns=now,
        intent_id=intent_id,
        symbol=symbol,
        side=side,
        size=Decimal(size),
        order_type=OrderType.MARKET if limit is None else OrderType.LIMIT,
        limit_price=None if limit is None else Decimal(limit),
        time_in_force=tif,
        purpose=purpose,
        reference_mark=Decimal(mark),
        reason="test",
        valid_until_ns=now + int(ttl_s * 1e9),
    )


@attrs.define
class Harness:
    system: ActorSystem
    sim: SimExchange
    clock: FakeClock
    probe: Probe
    journal_path: Path
    rest: RestClient
    _seq: int = 0

    @property
    def executor(self) -> ActorAddress:
        return self.system.address("bot/executor")

    def state(self) -> ExecutorState:
        result: ExecutorState = self.system.state("bot/executor")
        return result

    # -- messages --------------------------------------------------------------------------

    def intent(self, intent_id: str, **details: Any) -> OrderIntent:
        return make_intent(self.clock, intent_id, **details)

    def place(self, intent: OrderIntent, mark: str | None = None) -> PlaceOrder:
        self._seq += 1
        message = PlaceOrder(
            message_id=f"place-{self._seq}",
            ts_created_ns=self.clock.time_ns(),
            correlation_id=intent.message_id,
            intent=intent,
            checked_mark=Decimal(mark) if mark is not None else intent.reference_mark,
        )
        self.executor.tell(message)
        return message

    def trading(self, state: TradingState, *reasons: str, by_a_person: bool | None = None) -> None:
        """Tell the executor risk's trading state; a HALTED is an operator's unless
        ``by_a_person`` is False (risk's own fail-closed HALTED, e.g. reading the journal)."""
        self._seq += 1
        stops = state is TradingState.HALTED if by_a_person is None else by_a_person
        self.executor.tell(
            TradingStateChanged(
                message_id=f"state-{self._seq}", ts_created_ns=self.clock.time_ns(),
                state=state, previous=None, reason="test", reasons=reasons,
                stops_everything=stops,
            )
        )  # fmt: skip

    def position(self, symbol: str, quantity: str, contract_size: str = "1") -> None:
        self._seq += 1
        self.executor.tell(
            PositionChanged(
                message_id=f"pos-{self._seq}", ts_created_ns=self.clock.time_ns(),
                correlation_id=None, cause="test",
                position=PositionView(
                    symbol=symbol, quantity=Decimal(quantity), average_entry_price=None,
                    contract_size=Decimal(contract_size), mark=None, realized_pnl=Decimal(0),
                    unrealized_pnl=Decimal(0), fees=Decimal(0), funding=Decimal(0),
                ),
            )
        )  # fmt: skip

    # -- what happened ---------------------------------------------------------------------

    def of(self, kind: type[T]) -> list[T]:
        return [e for e in self.probe.events if isinstance(e, kind)]

    def wait(
        self, condition: Callable[[list[Any]], bool], what: str, timeout_s: float = 10.0
    ) -> None:
        self.probe.wait_for(condition, timeout_s=timeout_s, what=what)

    def until(self, condition: Callable[[], T], what: str, timeout_s: float = 10.0) -> T:
        """Wait for a condition on something else than the probe's events (polls it)."""
        return eventually(condition, timeout_s=timeout_s, what=what)

    def updates(self, coid: str) -> list[OrderUpdated]:
        return [u for u in self.of(OrderUpdated) if u.client_order_id == coid]

    def statuses(self, coid: str) -> list[OrderStatus]:
        return [u.status for u in self.updates(coid)]

    def wait_status(self, coid: str, status: OrderStatus, timeout_s: float = 10.0) -> OrderUpdated:
        self.wait(
            lambda _: status in self.statuses(coid),
            f"order {coid} to reach {status}",
            timeout_s,
        )
        return next(u for u in self.updates(coid) if u.status is status)

    def wait_reconciled(self, count: int = 1, *, success: bool = True) -> ReconciliationCompleted:
        self.wait(
            lambda _: (
                len([c for c in self.of(ReconciliationCompleted) if c.success is success]) >= count
            ),
            f"{count} reconciliation(s) with success={success}",
        )
        return [c for c in self.of(ReconciliationCompleted) if c.success is success][count - 1]

    def of_denials(self) -> list[OrderDenied]:
        return self.of(OrderDenied)

    def denial(self, intent_id: str) -> OrderDenied:
        self.wait(
            lambda _: any(d.intent_id == intent_id for d in self.of(OrderDenied)),
            f"a denial of {intent_id}",
        )
        return next(d for d in self.of(OrderDenied) if d.intent_id == intent_id)

    def venue_orders(self, *intent_ids: str) -> list[OrderRecord]:
        """The venue's orders for these intents (by their client order ids)."""
        wanted = {client_order_id(i) for i in intent_ids}
        return [o for o in self.rest.list_orders() if o.client_order_id in wanted]

    def journaled(self, coid: str, status: OrderStatus) -> OrderUpdated:
        """The journal's last record of order ``coid``, once it is ``status``."""

        def recorded() -> OrderUpdated | None:
            with self.reader() as journal:
                order = journal.order(coid)
            return order if order is not None and order.status is status else None

        return eventually(recorded, timeout_s=10.0, what=f"the journal to hold {coid} {status}")

    def reader(self) -> Any:
        return open_reader(self.journal_path)


def start_executor(
    sim: SimExchange,
    journal_path: Path,
    *,
    clock: FakeClock | None = None,
    symbols: tuple[str, ...] = (SPOT, PERP),
    faults: Callable[[str], None] | None = None,
    request_timeout_s: float = 2.0,
    user_channel: bool = True,
    probe: Probe | None = None,
    journal: ChildSpec | None = None,
    portfolio: ChildSpec | None = None,
    wait_reconciled: bool = True,
    gateways: GatewaySource | None = None,
    user_channels: UserChannels | None = None,
    keep_finished: int | None = None,
    **execution: Any,
) -> Harness:
    """Start the tree and (unless told not to) wait for the executor's first startup
    reconciliation to end. ``journal`` replaces the journal child, ``portfolio`` the
    portfolio (a stand-in is told what the executor publishes for the portfolio);
    ``gateways`` hands the executor another venue's gateways than Advanced Trade's, and
    ``user_channels`` the user-feed actor that venue's user channel; ``keep_finished`` how
    many finished orders the executor keeps in memory (else its default)."""
    clock = clock or FakeClock()
    probe = probe or Probe()
    link = venue_link(sim, clock, request_timeout_s=request_timeout_s)
    if not user_channel:
        link.user_ws_url = None
    link.user_channels = user_channels
    config = BotConfig(
        journal=JournalConfig(path=journal_path),
        market_data=MarketDataConfig(symbols=symbols),
        execution=ExecutionConfig(**execution),
    )

    def executor(ctx: ActorContext) -> ExecutorActor:
        kept = {} if keep_finished is None else {"keep_finished": keep_finished}
        return ExecutorActor(
            context=ctx, venue=gateways or link, journal=ctx.system.address("bot/journal"),
            faults=faults, **kept,
        )  # fmt: skip

    def real_portfolio(ctx: ActorContext) -> PortfolioActor:
        return PortfolioActor(
            context=ctx,
            # A stand-in journal may not answer ReadBook: the portfolio starts empty then.
            journal=ctx.system.address("bot/journal") if journal is None else None,
        )

    system = ActorSystem("t", clock=clock, ids=SequentialIds("msg"), watchdog_interval_s=None)
    system.start(
        SupervisorSpec(
            name="bot",
            strategy=RestartStrategy.REST_FOR_ONE,
            children=[
                journal or journal_child(journal_path),
                portfolio or ChildSpec(name="portfolio", factory=real_portfolio),
                ChildSpec(name="risk", factory=lambda ctx: Subscriber(context=ctx, probe=probe)),
                ChildSpec(
                    name="executor",
                    factory=executor,
                    mailbox=lambda: executor_mailbox(config.execution.max_pending_orders),
                ),
                ChildSpec(
                    name="userfeed",
                    factory=lambda ctx: UserFeedActor(
                        context=ctx, venue=link, executor=ctx.system.address("bot/executor")
                    ),
                ),
            ],
            wiring=TREE_WIRING,
        ),
        config=config,
    )
    rest = sim_rest(sim, clock)
    harness = Harness(
        system=system, sim=sim, clock=clock, probe=probe, journal_path=journal_path, rest=rest
    )
    if wait_reconciled:
        probe.wait_for(
            lambda events: any(isinstance(e, ReconciliationCompleted) for e in events),
            timeout_s=10.0,
            what="the startup reconciliation",
        )
    return harness


def stop(harness: Harness) -> None:
    harness.system.shutdown()
    harness.rest.close()


@contextlib.contextmanager
def running(harness: Harness) -> Iterator[Harness]:
    try:
        yield harness
    finally:
        stop(harness)


def seed_journal(path: Path, messages: Callable[[ActorAddress], list[Any]]) -> None:
    """Write ``messages(reply_to)`` to the journal at ``path`` through a journal actor of its
    own, as a previous run of the bot would have."""
    probe = Probe()
    system = ActorSystem("seed", clock=FakeClock(), ids=SequentialIds("seed"),
                         watchdog_interval_s=None)  # fmt: skip
    try:
        system.start(
            SupervisorSpec(
                name="old",
                children=[
                    journal_child(path),
                    ChildSpec(name="probe",
                              factory=lambda ctx: Subscriber(context=ctx, probe=probe)),
                ],
            ),
            config=BotConfig(journal=JournalConfig(path=path)),
        )  # fmt: skip
        journal, reply_to = system.address("old/journal"), system.address("old/probe")
        for message in messages(reply_to):
            journal.tell(message)
        journal.tell(SyncJournal(message_id="seed-sync", ts_created_ns=0, reply_to=reply_to))
        probe.wait_for(lambda events: any(isinstance(e, JournalSynced) for e in events),
                       what="the seeded journal to commit")  # fmt: skip
    finally:
        system.shutdown()


def recorded(intent: OrderIntent, reply_to: ActorAddress) -> RecordIntent:
    return RecordIntent(
        message_id=f"rec-{intent.intent_id}", ts_created_ns=intent.ts_created_ns, intent=intent,
        client_order_id=client_order_id(intent.intent_id), reply_to=reply_to,
    )  # fmt: skip


def journaled_update(
    intent: OrderIntent, status: OrderStatus, venue_order_id: str | None = None
) -> OrderUpdated:
    return OrderUpdated(
        message_id=f"upd-{intent.intent_id}-{status}", ts_created_ns=intent.ts_created_ns,
        correlation_id=intent.message_id, intent_id=intent.intent_id,
        client_order_id=client_order_id(intent.intent_id), venue_order_id=venue_order_id,
        symbol=intent.symbol, side=intent.side, purpose=intent.purpose,
        order_type=intent.order_type, size=intent.size, limit_price=intent.limit_price,
        filled_size=Decimal(0), average_fill_price=None, previous=None, status=status,
        source=TransitionSource.REST,
    )  # fmt: skip
