"""The journal part of the orders benchmark: batched throughput and intent commit latency.

Contenders, side by side in one run, per durability setting (``journal.synchronous``):

- **perpsbot**: the JournalActor in an ActorSystem. Throughput: one producer tells N prebuilt
  events (order updates, fills, positions), then a SyncJournal; measured until its
  JournalSynced is told (everything committed). Latency: an executor stand-in actor sends one
  RecordIntent, waits for its IntentRecorded, sends the next (closed loop); measured from the
  tell to the executor handling the reply, so both hops and the commit count.
- **one-thread floor**: the same rows through the same store in one thread, no actor: the
  same transaction sizes as the actor's commits for throughput, one intent per transaction
  for latency.
"""

from __future__ import annotations

import gc
import tempfile
import threading
from pathlib import Path
from typing import Any

from tests.journal.events import Events

from benchmarks._report import fmt_spread, median, percentile, print_table, spread
from perpsbot.actors import JournalActor, JournalState, journal_mailbox
from perpsbot.clock import SystemClock, stopwatch_ns
from perpsbot.config import BotConfig, JournalConfig, Synchronous
from perpsbot.journal import JournalStore, open_for_writing
from perpsbot.messages import IntentRecorded, OrderIntent, OrderStatus, RecordIntent
from perpsbot.runtime import ActorContext, ActorSystem, BaseActor, ChildSpec, SupervisorSpec

__all__ = ["run"]

TARGET_EVENTS_PER_S = 50_000
TARGET_INTENT_P99_US = 2_000
#: mode -> (events per burst, intents in the latency loop, repeats)
SIZES = {"full": (200_000, 5_000, 5), "quick": (50_000, 1_000, 3), "smoke": (3_000, 100, 1)}


class _Synced:
    """A reply address told on the journal's thread; sets an Event."""

    path = "bench/synced"

    def __init__(self) -> None:
        self.done = threading.Event()

    def tell(self, message: Any) -> None:
        self.done.set()


class _Go:
    pass


class _Executor(BaseActor):
    """Sends RecordIntent, waits for IntentRecorded, records the round trip, sends the next."""

    def __init__(self, *, context: ActorContext, intents: list[OrderIntent]) -> None:
        super().__init__(context=context)
        self._journal = context.system.address("bench/journal")
        self._intents = intents
        self._records: list[RecordIntent] = []
        self._sent_ns = 0
        self.latencies_us: list[float] = []
        self.done = threading.Event()

    def on_start(self) -> None:
        events = Events(self.clock, prefix="record")
        self._records = [events.record(intent, self.address) for intent in self._intents]

    def on_receive(self, message: Any) -> None:
        match message:
            case _Go():
                self._send()
            case IntentRecorded():
                self.latencies_us.append((stopwatch_ns() - self._sent_ns) / 1e3)
                self._send()
            case _:
                self.unhandled(message)

    def _send(self) -> None:
        if len(self.latencies_us) == len(self._records):
            self.done.set()
            return
        record = self._records[len(self.latencies_us)]
        self._sent_ns = stopwatch_ns()
        self._journal.tell(record)


def _events(n: int, events: Events) -> list[Any]:
    """A realistic mix: per order, two updates, a fill and the position it changed."""
    out: list[Any] = []
    while len(out) < n:
        k = len(out)
        intent = events.intent(f"BTC-USD:entry:{k}")
        out += [
            events.order(intent, OrderStatus.SUBMITTED, OrderStatus.PENDING_SUBMIT),
            events.order(intent, OrderStatus.FILLED, OrderStatus.SUBMITTED, filled="0.5"),
            events.fill(intent, f"fill-{k}"),
            events.position(quantity=str(k + 1)),
        ]
    return out[:n]


def _intents(n: int, events: Events, tag: str) -> list[OrderIntent]:
    return [events.intent(f"{tag}:{i}") for i in range(n)]


def _system(
    path: Path, synchronous: Synchronous, intents: list[OrderIntent]
) -> tuple[ActorSystem, list[_Executor]]:
    system = ActorSystem("bench", watchdog_interval_s=None)
    config = BotConfig(journal=JournalConfig(path=path, synchronous=synchronous))
    executor: list[_Executor] = []

    def build_executor(ctx: ActorContext) -> _Executor:
        executor.append(_Executor(context=ctx, intents=intents))
        return executor[-1]

    system.start(
        SupervisorSpec(
            name="bench",
            children=[
                ChildSpec(
                    name="journal",
                    factory=lambda ctx: JournalActor(context=ctx),
                    mailbox=journal_mailbox,
                ),
                ChildSpec(name="executor", factory=build_executor),
            ],
        ),
        config=config,
    )
    return system, executor


def _actor_run(
    path: Path, synchronous: Synchronous, batch: list[Any], intents: list[OrderIntent]
) -> tuple[float, list[float], JournalState]:
    """Throughput, the journal's counters after it, then intent latencies."""
    events = Events(SystemClock(), prefix="sync")
    system, executor = _system(path, synchronous, intents)
    try:
        journal = system.address("bench/journal")
        synced = _Synced()
        gc.collect()
        started = stopwatch_ns()
        for event in batch:
            journal.tell(event)
        journal.tell(events.sync(synced))
        if not synced.done.wait(600):
            raise RuntimeError("the journal never confirmed the burst")
        rate = len(batch) / ((stopwatch_ns() - started) / 1e9)
        stats: JournalState = system.state("bench/journal")
        system.address("bench/executor").tell(_Go())
        if not executor[-1].done.wait(600):
            raise RuntimeError("the executor stand-in never got its last IntentRecorded")
        return rate, executor[-1].latencies_us, stats
    finally:
        system.shutdown()


def _floor_throughput(path: Path, synchronous: Synchronous, batch: list[Any], size: int) -> float:
    db = open_for_writing(path, synchronous=synchronous.value, busy_timeout_s=1.0)
    store = JournalStore(db)
    try:
        gc.collect()
        started = stopwatch_ns()
        for i in range(0, len(batch), size):
            store.commit([store.prepare(m) for m in batch[i : i + size]])
        return len(batch) / ((stopwatch_ns() - started) / 1e9)
    finally:
        db.close()


def _floor_latencies_us(
    path: Path, synchronous: Synchronous, records: list[RecordIntent]
) -> list[float]:
    db = open_for_writing(path, synchronous=synchronous.value, busy_timeout_s=1.0)
    store = JournalStore(db)
    samples = []
    try:
        for record in records:
            started = stopwatch_ns()
            store.commit([store.prepare(record)])
            samples.append((stopwatch_ns() - started) / 1e3)
    finally:
        db.close()
    return samples


def _one_setting(
    directory: Path, synchronous: Synchronous, n: int, intents: int, repeats: int
) -> dict[str, Any]:
    clock = SystemClock()
    actor_rates, floor_rates, actor_us, floor_us, batches = [], [], [], [], []
    synced = _Synced()  # the floor's records name a reply address nobody tells
    for repeat in range(repeats):  # interleaved so both see the same machine state
        events = Events(clock, prefix=f"r{repeat}")
        batch = _events(n, events)
        actor_path = directory / f"actor-{synchronous.value}-{repeat}.sqlite3"
        floor_path = directory / f"floor-{synchronous.value}-{repeat}.sqlite3"
        rate, latencies, stats = _actor_run(
            actor_path, synchronous, batch, _intents(intents, events, f"actor{repeat}")
        )
        actor_rates.append(rate)
        actor_us += latencies
        mean_batch = stats.events_written / max(1, stats.commits)
        batches.append(mean_batch)
        floor_rates.append(
            _floor_throughput(floor_path, synchronous, batch, max(1, round(mean_batch)))
        )
        records = [events.record(i, synced) for i in _intents(intents, events, f"fl{repeat}")]
        floor_us += _floor_latencies_us(floor_path, synchronous, records)
    return {
        "events_per_s": {"floor": spread(floor_rates), "perpsbot": spread(actor_rates)},
        "events_per_s_perpsbot_over_floor": spread(
            [a / f for a, f in zip(actor_rates, floor_rates, strict=True)]
        ),
        "mean_events_per_commit": median(batches),
        "intent_commit_us": {
            "floor": {"p50": percentile(floor_us, 50), "p99": percentile(floor_us, 99)},
            "perpsbot": {"p50": percentile(actor_us, 50), "p99": percentile(actor_us, 99)},
        },
    }


def run(*, mode: str = "full") -> dict[str, Any]:
    """Measure, print the table and return the figures (the ``journal`` part of orders.json)."""
    n, intents, repeats = SIZES[mode]
    settings = (Synchronous.NORMAL,) if mode == "smoke" else tuple(Synchronous)
    figures: dict[str, Any] = {"events": n, "intents": intents, "repeats": repeats}
    with tempfile.TemporaryDirectory(prefix="perpsbot-orders-") as directory:
        for synchronous in settings:
            figures[synchronous.value] = _one_setting(
                Path(directory), synchronous, n, intents, repeats
            )
    normal = figures[Synchronous.NORMAL.value]
    figures["targets"] = {
        "events_per_s": {
            "target": TARGET_EVENTS_PER_S,
            "measured": normal["events_per_s"]["perpsbot"]["median"],
        },
        "intent_commit_p99_us": {
            "target": TARGET_INTENT_P99_US,
            "measured": normal["intent_commit_us"]["perpsbot"]["p99"],
        },
    }
    rows = []
    for synchronous in settings:
        f = figures[synchronous.value]
        rate, us = f["events_per_s"], f["intent_commit_us"]
        rows += [
            [
                f"events/s batched, synchronous={synchronous.value}",
                fmt_spread(rate["floor"], 0),
                fmt_spread(rate["perpsbot"], 0),
                f"{fmt_spread(f['events_per_s_perpsbot_over_floor'])}x",
                f"{f['mean_events_per_commit']:.0f} events/commit",
            ],
            [
                f"intent commit p50 / p99 us, synchronous={synchronous.value}",
                f"{us['floor']['p50']:.0f} / {us['floor']['p99']:.0f}",
                f"{us['perpsbot']['p50']:.0f} / {us['perpsbot']['p99']:.0f}",
                "",
                "RecordIntent -> IntentRecorded handled",
            ],
        ]
    print_table(
        f"orders / journal ({mode}): {n:,} events x {repeats} repeats, {intents:,} intents; "
        f"targets >= {TARGET_EVENTS_PER_S:,} events/s, intent p99 < {TARGET_INTENT_P99_US:,} us",
        ["metric", "one-thread floor", "perpsbot", "perpsbot / floor", "note"],
        rows,
    )
    return figures
