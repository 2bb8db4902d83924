"""Runtime benchmark: perpsbot's base actor against plain pykka, side by side in one run.

- tell throughput: a plain thread (not an actor) tells N integers to a counting actor;
  from the first tell until the actor has handled the last one (end to end).
- actor-to-actor tells: an actor tells N integers to another from one handler; from the
  moment it is told to start until the other has handled the last one.
- ping-pong: two actors tell each other a message back and forth; each round trip is timed
  by the actor that starts it (p50 and p99 over every round trip of every repeat).
- ask latency: sequential request/reply round trips from a plain thread, p50 and p99.
- restart time: a told message crashes a supervised child; measured from that tell until the
  successor has handled the next message. Plain pykka has no restart to compare.

Both sides use the same message classes (frozen attrs, as perpsbot's style asks) and the
same handler code; pykka actors are stock ``ThreadingActor`` with their default inbox and
are reached through ``ActorRef.tell`` (no proxies). Ratios are computed per repeat (both
sides of a repeat ran back to back) and reported as the median and range over the repeats.
"""

from __future__ import annotations

import gc
import threading
from pathlib import Path
from typing import Any

import attrs
import pykka

from benchmarks._report import fmt_spread, percentile, print_table, spread, write_json
from perpsbot.clock import stopwatch_ns
from perpsbot.runtime import (
    ActorContext,
    ActorSystem,
    BaseActor,
    ChildSpec,
    Intensity,
    SupervisorSpec,
)

# mode: (tells, asks, repeats, restarts, ping-pong round trips a repeat)
SIZES = {
    "full": (200_000, 20_000, 5, 300, 20_000),
    "quick": (50_000, 2_000, 3, 50, 5_000),
    "smoke": (2_000, 200, 1, 5, 500),
}
ROOT = "root"


@attrs.frozen
class _Ping:
    seq: int
    reply_to: Any  # the pinger: a perpsbot ActorAddress or a pykka ActorRef


@attrs.frozen
class _Pong:
    seq: int


@attrs.frozen
class _Go:
    """Start: the pinger plays its rounds, the producer tells its messages."""


class _Boom:
    pass


class _Count:
    """Counts the integers told to an actor; sets ``done`` at ``target``."""

    def __init__(self, target: int) -> None:
        self.count = 0
        self.target = target
        self.done = threading.Event()

    def receive(self, message: Any) -> Any:
        if type(message) is _Boom:
            raise RuntimeError("benchmark crash")
        if message == "ping":
            return "pong"
        self.count += 1
        if self.count == self.target:
            self.done.set()
        return None


class _Rounds:
    """The pinger's side of a ping-pong: times each round trip, sets ``done`` after the last."""

    def __init__(self, rounds: int) -> None:
        self.rounds = rounds
        self.samples_us: list[float] = []
        self.done = threading.Event()
        self._sent_ns = 0

    def first(self, me: Any) -> _Ping:
        self._sent_ns = stopwatch_ns()
        return _Ping(0, me)

    def next(self, pong: _Pong, me: Any) -> _Ping | None:
        now = stopwatch_ns()
        self.samples_us.append((now - self._sent_ns) / 1e3)
        if pong.seq + 1 >= self.rounds:
            self.done.set()
            return None
        self._sent_ns = stopwatch_ns()
        return _Ping(pong.seq + 1, me)


def _play(rounds: _Rounds, message: Any, me: Any, peer: Any) -> None:
    """The pinger's handler, the same for both runtimes."""
    if type(message) is _Go:
        peer.tell(rounds.first(me))
    elif type(message) is _Pong:
        ping = rounds.next(message, me)
        if ping is not None:
            peer.tell(ping)


def _produce(n: int, peer: Any) -> None:
    tell = peer.tell
    for i in range(n):
        tell(i)


# -- plain pykka ------------------------------------------------------------------------------


class _PykkaCounter(pykka.ThreadingActor):
    def __init__(self, count: _Count) -> None:
        super().__init__()
        self._count = count

    def on_receive(self, message: Any) -> Any:
        return self._count.receive(message)


class _PykkaPonger(pykka.ThreadingActor):
    def on_receive(self, message: Any) -> None:
        if type(message) is _Ping:
            message.reply_to.tell(_Pong(message.seq))


class _PykkaPinger(pykka.ThreadingActor):
    def __init__(self, rounds: _Rounds, peer: pykka.ActorRef[Any]) -> None:
        super().__init__()
        self._rounds = rounds
        self._peer = peer

    def on_receive(self, message: Any) -> None:
        _play(self._rounds, message, self.actor_ref, self._peer)


class _PykkaProducer(pykka.ThreadingActor):
    def __init__(self, n: int, peer: pykka.ActorRef[Any]) -> None:
        super().__init__()
        self._n = n
        self._peer = peer

    def on_receive(self, message: Any) -> None:
        if type(message) is _Go:
            _produce(self._n, self._peer)


# -- perpsbot ---------------------------------------------------------------------------------


class _Counter(BaseActor):
    def __init__(self, *, context: ActorContext, count: _Count) -> None:
        super().__init__(context=context)
        self._count = count

    def on_receive(self, message: Any) -> Any:
        return self._count.receive(message)


class _Ponger(BaseActor):
    def on_receive(self, message: Any) -> None:
        match message:
            case _Ping():
                message.reply_to.tell(_Pong(message.seq))
            case _:
                self.unhandled(message)


class _Pinger(BaseActor):
    def __init__(self, *, context: ActorContext, rounds: _Rounds) -> None:
        super().__init__(context=context)
        self._rounds = rounds
        self._peer = context.system.address(f"{ROOT}/ponger")

    def on_receive(self, message: Any) -> None:
        _play(self._rounds, message, self.address, self._peer)


class _Producer(BaseActor):
    def __init__(self, *, context: ActorContext, n: int, peer: str) -> None:
        super().__init__(context=context)
        self._n = n
        self._peer = context.system.address(f"{ROOT}/{peer}")

    def on_receive(self, message: Any) -> None:
        match message:
            case _Go():
                _produce(self._n, self._peer)
            case _:
                self.unhandled(message)


def _counter(name: str, count: _Count) -> ChildSpec:
    return ChildSpec(name=name, factory=lambda c: _Counter(context=c, count=count))


def _perpsbot_system(children: list[ChildSpec]) -> ActorSystem:
    system = ActorSystem("bench", watchdog_interval_s=None)
    system.start(
        SupervisorSpec(
            name=ROOT, intensity=Intensity(max_restarts=10**9, window_s=1), children=children
        )
    )
    return system


# -- one repeat of each side ------------------------------------------------------------------


def _rate(n: int, done: threading.Event, start: Any) -> float:
    gc.collect()
    started = stopwatch_ns()
    start()
    if not done.wait(120):
        raise RuntimeError("benchmark actor never saw its last message")
    return n / ((stopwatch_ns() - started) / 1e9)


def _ask_latencies_us(ask: Any, n: int) -> list[float]:
    samples = []
    for _ in range(n):
        started = stopwatch_ns()
        ask("ping")
        samples.append((stopwatch_ns() - started) / 1e3)
    return samples


def _round_trips_us(rounds: _Rounds, start: Any) -> list[float]:
    gc.collect()
    start()
    if not rounds.done.wait(120):
        raise RuntimeError("the ping-pong never finished")
    return rounds.samples_us


def _pykka_repeat(n: int, asks: int, round_trips: int) -> dict[str, Any]:
    external, internal, rounds = _Count(n), _Count(n), _Rounds(round_trips)
    counter = _PykkaCounter.start(external)
    target = _PykkaCounter.start(internal)
    producer = _PykkaProducer.start(n, target)
    ponger = _PykkaPonger.start()
    pinger = _PykkaPinger.start(rounds, ponger)
    try:
        return {
            "tell": _rate(n, external.done, lambda: _produce(n, counter)),
            "actor_tell": _rate(n, internal.done, lambda: producer.tell(_Go())),
            "round_trip_us": _round_trips_us(rounds, lambda: pinger.tell(_Go())),
            "ask_us": _ask_latencies_us(lambda m: counter.ask(m, timeout=10), asks),
        }
    finally:
        for ref in (counter, target, producer, ponger, pinger):
            ref.stop()


def _perpsbot_repeat(n: int, asks: int, round_trips: int) -> dict[str, Any]:
    external, internal, rounds = _Count(n), _Count(n), _Rounds(round_trips)
    system = _perpsbot_system(
        [
            _counter("counter", external),
            _counter("target", internal),
            ChildSpec(name="producer", factory=lambda c: _Producer(context=c, n=n, peer="target")),
            ChildSpec(name="ponger", factory=lambda c: _Ponger(context=c)),
            ChildSpec(name="pinger", factory=lambda c: _Pinger(context=c, rounds=rounds)),
        ]
    )
    try:
        counter = system.address(f"{ROOT}/counter")
        producer = system.address(f"{ROOT}/producer")
        pinger = system.address(f"{ROOT}/pinger")
        return {
            "tell": _rate(n, external.done, lambda: _produce(n, counter)),
            "actor_tell": _rate(n, internal.done, lambda: producer.tell(_Go())),
            "round_trip_us": _round_trips_us(rounds, lambda: pinger.tell(_Go())),
            "ask_us": _ask_latencies_us(lambda m: counter.ask(m, timeout_s=10), asks),
        }
    finally:
        system.shutdown()


def _restart_times_ms(restarts: int) -> list[float]:
    """Crash, then time until the successor handled the next message."""
    import logging  # noqa: PLC0415

    logging.disable(logging.CRITICAL)  # thousands of failure logs would measure the logger
    samples = []
    try:
        for _ in range(restarts):
            count = _Count(1)
            system = _perpsbot_system([_counter("counter", count)])
            address = system.address(f"{ROOT}/counter")
            address.ask("ping", timeout_s=10)  # running
            started = stopwatch_ns()
            address.tell(_Boom())
            address.tell(1)
            if not count.done.wait(10):
                raise RuntimeError("the restarted child never handled a message")
            samples.append((stopwatch_ns() - started) / 1e6)
            system.shutdown()
    finally:
        logging.disable(logging.NOTSET)
    return samples


def _latency(samples: list[float]) -> dict[str, float]:
    return {"p50": percentile(samples, 50), "p99": percentile(samples, 99)}


def main(*, mode: str = "full", out: Path | None = None) -> dict[str, Any]:
    n, asks, repeats, restarts, round_trips = SIZES[mode]
    runs: dict[str, list[dict[str, Any]]] = {"pykka": [], "perpsbot": []}
    for _ in range(repeats):  # interleaved so both see the same machine state
        runs["pykka"].append(_pykka_repeat(n, asks, round_trips))
        runs["perpsbot"].append(_perpsbot_repeat(n, asks, round_trips))
    restart_ms = _restart_times_ms(restarts)

    def per_repeat(side: str, key: str) -> list[float]:
        return [run[key] for run in runs[side]]

    def pooled(side: str, key: str) -> list[float]:
        return [sample for run in runs[side] for sample in run[key]]

    def ratio(key: str, *, latency: bool = False) -> dict[str, float]:
        """perpsbot / pykka per repeat; for latencies, of each repeat's p50."""
        pairs = zip(runs["perpsbot"], runs["pykka"], strict=True)
        if latency:
            return spread([percentile(a[key], 50) / percentile(b[key], 50) for a, b in pairs])
        return spread([a[key] / b[key] for a, b in pairs])

    sides = ("pykka", "perpsbot")
    figures: dict[str, Any] = {
        "mode": mode,
        "messages": n,
        "repeats": repeats,
        "ping_pong_round_trips_per_repeat": round_trips,
        "tell_msgs_per_s": {s: spread(per_repeat(s, "tell")) for s in sides},
        "actor_to_actor_tell_msgs_per_s": {s: spread(per_repeat(s, "actor_tell")) for s in sides},
        "ping_pong_round_trip_us": {s: _latency(pooled(s, "round_trip_us")) for s in sides},
        "ask_us": {s: _latency(pooled(s, "ask_us")) for s in sides},
        "restart_ms": {
            "pykka": None,
            "perpsbot": {
                **_latency(restart_ms),
                "max": max(restart_ms),
                "samples": len(restart_ms),
            },
        },
        "ratios": {
            "tell_throughput_perpsbot_over_pykka": ratio("tell"),
            "actor_to_actor_tell_throughput_perpsbot_over_pykka": ratio("actor_tell"),
            "ping_pong_p50_perpsbot_over_pykka": ratio("round_trip_us", latency=True),
            "ask_p50_perpsbot_over_pykka": ratio("ask_us", latency=True),
        },
    }
    _print(figures, asks, restarts)
    write_json("runtime", figures, out)
    return figures


def _print(figures: dict[str, Any], asks: int, restarts: int) -> None:
    tell, a2a = figures["tell_msgs_per_s"], figures["actor_to_actor_tell_msgs_per_s"]
    pong, ask, ratios = figures["ping_pong_round_trip_us"], figures["ask_us"], figures["ratios"]
    restart = figures["restart_ms"]["perpsbot"]
    print_table(
        f"runtime: {figures['messages']:,} tells x {figures['repeats']} repeats, "
        f"{figures['ping_pong_round_trips_per_repeat']:,} ping-pong round trips and "
        f"{asks:,} asks a repeat, {restarts} restarts; throughput is median (min-max)",
        ["metric", "plain pykka", "perpsbot", "perpsbot / pykka"],
        [
            ["tell msgs/s, thread -> actor", fmt_spread(tell["pykka"], 0),
             fmt_spread(tell["perpsbot"], 0),
             fmt_spread(ratios["tell_throughput_perpsbot_over_pykka"])],
            ["tell msgs/s, actor -> actor", fmt_spread(a2a["pykka"], 0),
             fmt_spread(a2a["perpsbot"], 0),
             fmt_spread(ratios["actor_to_actor_tell_throughput_perpsbot_over_pykka"])],
            ["ping-pong round trip p50 / p99 us",
             f"{pong['pykka']['p50']:.1f} / {pong['pykka']['p99']:.1f}",
             f"{pong['perpsbot']['p50']:.1f} / {pong['perpsbot']['p99']:.1f}",
             fmt_spread(ratios["ping_pong_p50_perpsbot_over_pykka"]) + " (p50)"],
            ["ask p50 / p99 us",
             f"{ask['pykka']['p50']:.1f} / {ask['pykka']['p99']:.1f}",
             f"{ask['perpsbot']['p50']:.1f} / {ask['perpsbot']['p99']:.1f}",
             fmt_spread(ratios["ask_p50_perpsbot_over_pykka"]) + " (p50)"],
            ["restart p50 / p99 / max ms", "n/a (no restart)",
             f"{restart['p50']:.2f} / {restart['p99']:.2f} / {restart['max']:.2f}", ""],
        ],
    )  # fmt: skip
