"""Runtime benchmark: perpsbot's base actor against plain pykka, in the same run.

- tell throughput: one producer tells N integers to a counting actor; measured from the first
  tell until the actor has handled the last one (end to end).
- ask latency: sequential request/reply round trips, p50 and p99.
- restart time: a told message crashes a supervised child; measured from that tell until the
  successor has handled the next message. Plain pykka has no restart to compare.
"""

from __future__ import annotations

import gc
import threading
from typing import Any

import pykka

from benchmarks._report import median, percentile, print_table, write_json
from perpsbot.clock import stopwatch_ns
from perpsbot.runtime import (
    ActorContext,
    ActorSystem,
    BaseActor,
    ChildSpec,
    Intensity,
    SupervisorSpec,
)


class _PykkaCounter(pykka.ThreadingActor):
    def __init__(self, target: int, done: threading.Event) -> None:
        super().__init__()
        self.count = 0
        self.target = target
        self.done = done

    def on_receive(self, message: Any) -> Any:
        if message == "ping":
            return "pong"
        self.count += 1
        if self.count == self.target:
            self.done.set()
        return None


class _Boom:
    pass


class _Counter(BaseActor):
    def __init__(self, *, context: ActorContext, target: int, done: threading.Event) -> None:
        super().__init__(context=context)
        self.count = 0
        self.target = target
        self.done = done

    def on_receive(self, message: Any) -> Any:
        if type(message) is _Boom:
            raise RuntimeError("benchmark crash")
        if message == "ping":
            return "pong"
        self.count += 1
        if self.count == self.target:
            self.done.set()
        return None


def _throughput(tell: Any, done: threading.Event, n: int) -> float:
    gc.collect()
    started = stopwatch_ns()
    for i in range(n):
        tell(i)
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


def _pykka_run(n: int, asks: int) -> tuple[float, list[float]]:
    done = threading.Event()
    ref = _PykkaCounter.start(n, done)
    try:
        rate = _throughput(ref.tell, done, n)
        latencies = _ask_latencies_us(lambda m: ref.ask(m, timeout=10), asks)
    finally:
        ref.stop()
    return rate, latencies


def _perpsbot_system(n: int, done: threading.Event) -> ActorSystem:
    system = ActorSystem("bench", watchdog_interval_s=None)
    spec = ChildSpec(name="counter", factory=lambda ctx: _Counter(context=ctx, target=n, done=done))
    system.start(
        SupervisorSpec(
            name="root", intensity=Intensity(max_restarts=10**9, window_s=1), children=[spec]
        )
    )
    return system


def _perpsbot_run(n: int, asks: int) -> tuple[float, list[float]]:
    done = threading.Event()
    system = _perpsbot_system(n, done)
    try:
        address = system.address("root/counter")
        rate = _throughput(address.tell, done, n)
        latencies = _ask_latencies_us(lambda m: address.ask(m, timeout_s=10), asks)
    finally:
        system.shutdown()
    return rate, latencies


def _restart_times_ms(restarts: int) -> list[float]:
    """Crash, then time until the successor handled the next message."""
    import logging  # noqa: PLC0415

    logging.disable(logging.CRITICAL)  # thousands of failure logs would measure the logger
    samples = []
    try:
        for _ in range(restarts):
            done = threading.Event()
            system = _perpsbot_system(1, done)
            address = system.address("root/counter")
            address.ask("ping", timeout_s=10)  # running
            started = stopwatch_ns()
            address.tell(_Boom())
            address.tell(1)
            if not done.wait(10):
                raise RuntimeError("the restarted child never handled a message")
            samples.append((stopwatch_ns() - started) / 1e6)
            system.shutdown()
    finally:
        logging.disable(logging.NOTSET)
    return samples


def main(*, quick: bool = False) -> dict[str, Any]:
    n = 50_000 if quick else 200_000
    asks = 2_000 if quick else 20_000
    repeats = 3 if quick else 5
    restarts = 50 if quick else 300

    pykka_rates, ours_rates, pykka_asks, ours_asks = [], [], [], []
    for _ in range(repeats):  # interleaved so both see the same machine state
        rate, lat = _pykka_run(n, asks)
        pykka_rates.append(rate)
        pykka_asks.extend(lat)
        rate, lat = _perpsbot_run(n, asks)
        ours_rates.append(rate)
        ours_asks.extend(lat)
    restart_ms = _restart_times_ms(restarts)

    figures = {
        "messages": n,
        "repeats": repeats,
        "tell_msgs_per_s": {"pykka": median(pykka_rates), "perpsbot": median(ours_rates)},
        "ask_us": {
            "pykka": {"p50": percentile(pykka_asks, 50), "p99": percentile(pykka_asks, 99)},
            "perpsbot": {"p50": percentile(ours_asks, 50), "p99": percentile(ours_asks, 99)},
        },
        "restart_ms": {
            "pykka": None,
            "perpsbot": {
                "p50": percentile(restart_ms, 50),
                "p99": percentile(restart_ms, 99),
                "max": max(restart_ms),
                "samples": len(restart_ms),
            },
        },
    }
    figures["ratios"] = {
        "tell_throughput_perpsbot_over_pykka": figures["tell_msgs_per_s"]["perpsbot"]
        / figures["tell_msgs_per_s"]["pykka"],
        "ask_p50_perpsbot_over_pykka": figures["ask_us"]["perpsbot"]["p50"]
        / figures["ask_us"]["pykka"]["p50"],
    }
    tell, ask, restart = figures["tell_msgs_per_s"], figures["ask_us"], figures["restart_ms"]
    print_table(
        f"runtime: {n:,} tells x {repeats} repeats, {asks:,} asks, {restarts} restarts",
        ["metric", "plain pykka", "perpsbot", "perpsbot / pykka"],
        [
            [
                "tell msgs/s (median)",
                f"{tell['pykka']:,.0f}",
                f"{tell['perpsbot']:,.0f}",
                f"{figures['ratios']['tell_throughput_perpsbot_over_pykka']:.2f}x",
            ],
            [
                "ask p50 us",
                f"{ask['pykka']['p50']:.1f}",
                f"{ask['perpsbot']['p50']:.1f}",
                f"{figures['ratios']['ask_p50_perpsbot_over_pykka']:.2f}x",
            ],
            ["ask p99 us", f"{ask['pykka']['p99']:.1f}", f"{ask['perpsbot']['p99']:.1f}", ""],
            [
                "restart p50 / p99 / max ms",
                "n/a (no restart)",
                f"{restart['perpsbot']['p50']:.2f} / {restart['perpsbot']['p99']:.2f}"
                f" / {restart['perpsbot']['max']:.2f}",
                "",
            ],
        ],
    )
    write_json("runtime", figures)
    return figures
