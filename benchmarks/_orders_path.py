"""The order-path part of the orders benchmark: from an intent to its order request on the wire.

Contenders, side by side in one run against one loopback exchange in a process of its own
(:mod:`benchmarks._orders_exchange`, as a venue is), one order at a time:

- **perpsbot**: the bot's actor tree (``bot_spec``: journal, risk, executor, marks, strategy,
  streamer, poller) on the exchange. Each intent is told to ``bot/risk`` as the strategy tells
  it; risk checks it and tells the executor, which fits it to the product, has the journal
  commit it (write-ahead) and sends it once the journal confirmed. The next intent goes once
  the executor published the order filled.
- **direct call**: the lock-based design: under one lock, on the caller's thread, the same
  risk rules, the same quantization, the same journal write (the journal's store committing
  the intent, same durability) and the same REST client's ``create_order``.

Latency is the exchange's creation time of the order (it stamps it when it handles
``POST /orders``, to the microsecond) minus the time the intent was handed over, on the same
clock: both contenders pay the same HTTP, signing, JSON and matching costs, so the difference
is what perpsbot's actors add (four thread hops and the journal's batch flush).
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.support.keys import make_credentials

from benchmarks._orders_exchange import ExchangeUrls, separate_exchange
from benchmarks._report import fmt_spread, percentile, print_table, spread
from perpsbot.actors.execution._quantize import QuantizeRejection, fitted_order
from perpsbot.actors.risk._check import OrderCheck, first_denial
from perpsbot.actors.risk._rules import order_rules
from perpsbot.bot import bot_sections, bot_spec
from perpsbot.clock import SystemClock
from perpsbot.config import (
    BotConfig,
    ExecutionConfig,
    JournalConfig,
    MarketDataConfig,
    RiskConfig,
    StrategyConfig,
    Synchronous,
)
from perpsbot.ids import client_order_id
from perpsbot.journal import JournalStore, open_for_writing
from perpsbot.messages import (
    IntentPurpose,
    OrderIntent,
    OrderType,
    OrderUpdated,
    ProductSpec,
    RecordIntent,
    Side,
    TimeInForce,
    TradingState,
)
from perpsbot.runtime import (
    ActorContext,
    ActorSystem,
    BaseActor,
    ChildSpec,
    Subscribe,
    SupervisorSpec,
)
from perpsbot.venue import (
    AdvancedTradeGateway,
    JwtSigner,
    RateLimits,
    VenueLink,
    VenueRateLimiter,
)
from perpsbot.venue.records import OrderRecord

__all__ = ["run"]

SYMBOL = "BTC-USD"
SIZE = Decimal("0.0001")  # about 7 USD: the wallet's cash lasts any run
TARGET_ADDED_P50_US = 300
TARGET_ADDED_P99_US = 1_000
#: mode -> (orders per contender per repeat, repeats)
SIZES = {"full": (1_000, 5), "quick": (200, 3), "smoke": (20, 1)}
_WARM_UP = 5
_WAIT_S = 30.0


class _Filled(BaseActor):
    """Hears the executor's order updates; sets the event of an order once it is finished."""

    def __init__(self, *, context: ActorContext, finished: dict[str, threading.Event]) -> None:
        super().__init__(context=context)
        self._finished = finished

    def on_receive(self, message: Any) -> None:
        if isinstance(message, OrderUpdated) and message.status.terminal:
            event = self._finished.get(message.client_order_id)
            if event is not None:
                event.set()


def _config(journal: Path) -> BotConfig:
    """Limits that never deny a benchmark order; a strategy that never trades by itself."""
    big = Decimal(10**9)
    return BotConfig(
        market_data=MarketDataConfig(symbols=(SYMBOL,), update_interval_s=0.5),
        strategy=StrategyConfig(ma_cross_epsilon_bps=Decimal(10_000)),
        risk=RiskConfig(
            max_orders_per_minute=10_000,
            max_order_usd=big,
            max_position_usd=big,
            max_exposure_usd=big,
            daily_loss_limit_usd=big,
            max_leverage=Decimal(100),
        ),
        execution=ExecutionConfig(reconcile_interval_s=3_600.0, max_pending_orders=10),
        journal=JournalConfig(path=journal, synchronous=Synchronous.NORMAL),
    )


def _link(sim: ExchangeUrls, clock: SystemClock) -> VenueLink:
    # A budget the closed loop never waits on: the limiter is not what is measured.
    limits = RateLimits(private_per_s=10_000, public_per_s=10_000, private_burst=1_000)
    return VenueLink(
        rest_base_url=sim.rest_base_url,
        market_ws_url=sim.market_ws_url,
        user_ws_url=sim.user_ws_url,
        limiter=VenueRateLimiter(clock=clock, limits=limits),
        signer=JwtSigner(make_credentials()[0], clock=clock),
        clock=clock,
        request_timeout_s=10.0,
    )


def _intent(clock: SystemClock, tag: str, mark: Decimal) -> OrderIntent:
    now = clock.time_ns()
    return OrderIntent(
        message_id=f"m-{tag}", ts_created_ns=now, intent_id=f"bench:{tag}", symbol=SYMBOL,
        side=Side.BUY, size=SIZE, order_type=OrderType.MARKET, limit_price=None,
        time_in_force=TimeInForce.IOC, purpose=IntentPurpose.ENTRY, reference_mark=mark,
        reason="benchmark", valid_until_ns=now + 30 * 10**9,
    )  # fmt: skip


class _Perpsbot:
    """The bot's tree; :meth:`place` tells risk one intent and waits until it is filled."""

    def __init__(self, sim: ExchangeUrls, clock: SystemClock, journal: Path) -> None:
        self._finished: dict[str, threading.Event] = {}
        self.system = ActorSystem("bench", clock=clock, sections_of=bot_sections)
        config = _config(journal)
        self.system.start(bot_spec(config, _link(sim, clock)), config=config)
        self.system.start(
            SupervisorSpec(
                name="watch",
                children=[
                    ChildSpec(
                        name="filled",
                        factory=lambda ctx: _Filled(context=ctx, finished=self._finished),
                    )
                ],
            )
        )
        self.system.address("bot/executor").tell(
            Subscribe(subscriber=self.system.address("watch/filled"), topic=OrderUpdated)
        )
        self._risk = self.system.address("bot/risk")
        _wait(lambda: self.system.state("bot/risk").state == "active", "risk to trade")

    def place(self, intent: OrderIntent) -> int:
        done = self._finished[client_order_id(intent.intent_id)] = threading.Event()
        started_ns = SystemClock().time_ns()
        self._risk.tell(intent)
        if not done.wait(_WAIT_S):
            raise RuntimeError(
                f"{intent.intent_id} was not filled: {self.system.state('bot/risk')}"
            )
        return started_ns

    def close(self) -> None:
        self.system.shutdown()


class _Direct:
    """One lock, the same checks, journal write and venue gateway, on the caller's thread."""

    def __init__(self, sim: ExchangeUrls, clock: SystemClock, journal: Path) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        config = _config(journal)
        self._rules = order_rules(config.risk)
        self._db = open_for_writing(journal, synchronous="normal", busy_timeout_s=1.0)
        self._store = JournalStore(self._db)
        self._rest = _link(sim, clock).rest_client()
        self._gateway = AdvancedTradeGateway(self._rest)  # the executor's way to the venue
        self._spec: ProductSpec = self._gateway.products([SYMBOL])[SYMBOL]
        self._position = Decimal(0)

    def place(self, intent: OrderIntent, mark: Decimal) -> int:
        started_ns = self._clock.time_ns()
        with self._lock:
            check = OrderCheck(
                intent=intent, mark=mark, mark_age_s=0.1, position=self._position,
                product=self._spec, equity=Decimal(100_000), state=TradingState.ACTIVE,
                now_ns=self._clock.time_ns(),
            )  # fmt: skip
            denial = first_denial(self._rules, check)
            if denial is not None:
                raise RuntimeError(f"the direct design denied {intent.intent_id}: {denial}")
            coid = client_order_id(intent.intent_id)
            order = fitted_order(intent, coid, self._spec, mark)
            if isinstance(order, QuantizeRejection) or order.request is None:
                raise RuntimeError(f"{intent.intent_id} does not fit: {order}")
            record = RecordIntent(
                message_id=f"r-{coid}", ts_created_ns=started_ns, intent=intent,
                client_order_id=coid, reply_to=_NoReply(),
            )  # fmt: skip
            self._store.commit([self._store.prepare(record)])
            self._gateway.create_order(order.request)
            self._position += intent.size
        return started_ns

    def orders(self) -> list[OrderRecord]:
        """The exchange's orders (its creation times are what is measured)."""
        return self._rest.list_orders(product_ids=[SYMBOL])

    def close(self) -> None:
        self._gateway.close()
        self._db.close()


class _NoReply:
    """The direct design's RecordIntent answers nobody: the commit itself is the answer."""

    path = "direct"

    def tell(self, message: Any) -> None:
        pass  # never called: only the journal actor tells IntentRecorded


def _wait(condition: Callable[[], bool], what: str) -> None:
    done = threading.Event()
    for _ in range(int(_WAIT_S / 0.05)):
        if condition():
            return
        done.wait(0.05)
    raise RuntimeError(f"timed out waiting for {what}")


def _latencies_us(started: dict[str, int], orders: list[OrderRecord]) -> list[float]:
    created = {o.client_order_id: o.ts_created_ns for o in orders}
    out = []
    for coid, started_ns in started.items():
        at = created.get(coid)
        if at is None:
            raise RuntimeError(f"the exchange has no order {coid}")
        out.append((at - started_ns) / 1e3)
    return out


def run(*, mode: str = "full") -> dict[str, Any]:
    """Measure, print the table and return the figures (the ``path`` part of orders.json)."""
    n, repeats = SIZES[mode]
    clock = SystemClock()
    samples: dict[str, list[float]] = {"direct": [], "perpsbot": []}
    p99s: dict[str, list[float]] = {"direct": [], "perpsbot": []}
    with (
        tempfile.TemporaryDirectory(prefix="perpsbot-path-") as folder,
        separate_exchange(seed=11) as sim,
    ):
        bot = _Perpsbot(sim, clock, Path(folder) / "bot.sqlite3")
        direct = _Direct(sim, clock, Path(folder) / "direct.sqlite3")
        try:
            for repeat in range(repeats):  # interleaved: both see the same machine state
                for name in ("perpsbot", "direct"):
                    started: dict[str, int] = {}
                    for i in range(_WARM_UP + n):
                        mark = bot.system.state("bot/marks").latest[SYMBOL].mark
                        intent = _intent(clock, f"{name}-{repeat}-{i}", mark)
                        at = bot.place(intent) if name == "perpsbot" else direct.place(intent, mark)
                        if i >= _WARM_UP:
                            started[client_order_id(intent.intent_id)] = at
                    us = _latencies_us(started, direct.orders())
                    samples[name] += us
                    p99s[name].append(percentile(us, 99))
        finally:
            bot.close()
            direct.close()
    figures: dict[str, Any] = {
        "orders": n, "repeats": repeats, "synchronous": "normal", "exchange": "separate process",
    }  # fmt: skip
    figures["intent_to_wire_us"] = {
        name: {"p50": percentile(us, 50), "p99": percentile(us, 99)} for name, us in samples.items()
    }
    added = {
        q: figures["intent_to_wire_us"]["perpsbot"][q] - figures["intent_to_wire_us"]["direct"][q]
        for q in ("p50", "p99")
    }
    figures["perpsbot_added_us"] = added
    figures["p99_us_per_repeat"] = {name: spread(v) for name, v in p99s.items()}
    figures["targets"] = {
        "added_p50_us": {"target": TARGET_ADDED_P50_US, "measured": added["p50"]},
        "added_p99_us": {"target": TARGET_ADDED_P99_US, "measured": added["p99"]},
    }
    rows = [
        [
            f"intent -> order request on the wire, {q} us",
            f"{figures['intent_to_wire_us']['direct'][q]:.0f}",
            f"{figures['intent_to_wire_us']['perpsbot'][q]:.0f}",
            f"{added[q]:+.0f}",
        ]
        for q in ("p50", "p99")
    ]
    rows.append(
        [
            "p99 us per repeat, median (range)",
            fmt_spread(figures["p99_us_per_repeat"]["direct"], 0),
            fmt_spread(figures["p99_us_per_repeat"]["perpsbot"], 0),
            "",
        ]
    )
    print_table(
        f"orders / path ({mode}): {n:,} orders x {repeats} repeats per contender, one at a "
        "time, the exchange in another process, journal synchronous=normal; target: perpsbot "
        f"adds < {TARGET_ADDED_P50_US:,} us at p50, < {TARGET_ADDED_P99_US:,} us at p99",
        ["metric", "direct call (one lock)", "perpsbot", "perpsbot adds"],
        rows,
    )
    return figures
