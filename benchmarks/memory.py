"""Memory over a long run: ``perpsbot run --profile dev`` (trading the perps) against
``perpsbot sim`` in another process, with venue faults injected on a schedule.

The bot samples faster than ``dev``'s defaults (``update_interval_s`` 0.5, moving averages
of 2 and 5) and the schedule moves the price both ways (see :mod:`benchmarks._memory_faults`),
so it keeps opening and closing positions while sockets drop, sequences skip, REST calls
fail and order acks get lost. Every few seconds the bot's RSS is read from ``/proc``. The
figures: RSS at the start (the first cycle printed), after the first third of the run (10
minutes in a full run), at the end, and the least-squares slope over the last two thirds
(the last 20 minutes) in MiB per 10 minutes, with the growth it fits over those 20 minutes.

Target (issue 17): RSS grows by less than 2 MiB over the last 20 minutes of a 30-minute run.

``--tracemalloc`` runs the bot with ``--tracemalloc DIR``: it traces its allocations
and dumps a snapshot on SIGUSR2, which the suite sends after the first third and at the end;
the top allocation sites that grew between the two go into the JSON (as
``memory-tracemalloc.json``: tracing costs memory and CPU, so its RSS is not the bot's).
Linux only (``/proc``).
"""

from __future__ import annotations

import os
import signal
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from benchmarks._memory_faults import FaultSchedule
from benchmarks._report import print_table, write_json
from benchmarks.daemon import _drain, _perpsbot, _rss_mib, _status, _wait_line

TARGET_GROWTH_MIB = 2.0
TOP_SITES = 15

# mode -> (run s, RSS sample every s, a fault step every s, sim tick s)
_SIZES: dict[str, tuple[float, float, float, float]] = {
    "full": (1800.0, 5.0, 15.0, 0.05),
    "quick": (300.0, 2.0, 5.0, 0.05),
    "smoke": (24.0, 1.0, 1.5, 0.05),
}


def slope_per_s(samples: list[tuple[float, float]]) -> float:
    """The least-squares slope of ``(t, value)`` samples, per unit of ``t``."""
    n = len(samples)
    if n < 2:
        raise ValueError(f"a slope needs at least 2 samples, was given {n}")
    mean_t = sum(t for t, _ in samples) / n
    mean_v = sum(v for _, v in samples) / n
    spread_t = sum((t - mean_t) ** 2 for t, _ in samples)
    return sum((t - mean_t) * (v - mean_v) for t, v in samples) / spread_t


def _wait_file(path: Path, process_pid: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        if time.monotonic() > deadline:
            raise RuntimeError(f"bot {process_pid} wrote no tracemalloc snapshot {path} in time")
        time.sleep(0.2)


def _snapshot(pid: int, folder: Path, n: int) -> Path:
    """Ask the bot for its ``n``-th snapshot (SIGUSR2) and wait until it is on disk."""
    path = folder / f"tracemalloc-{n}.snapshot"
    os.kill(pid, signal.SIGUSR2)
    _wait_file(path, pid, timeout_s=120)
    return path


def growth_report(before: Path, after: Path, top: int = TOP_SITES) -> dict[str, Any]:
    """What Python's allocator held at each snapshot (what RSS grows by outside it is native
    memory: C libraries, malloc arenas, thread stacks) and the ``top`` allocation sites
    (file:line) whose traced size grew most between the two."""
    ignore = [
        tracemalloc.Filter(False, tracemalloc.__file__),
        tracemalloc.Filter(False, "<frozen importlib._bootstrap*>"),
    ]
    old = tracemalloc.Snapshot.load(str(before)).filter_traces(ignore)
    new = tracemalloc.Snapshot.load(str(after)).filter_traces(ignore)
    stats = sorted(new.compare_to(old, "lineno"), key=lambda s: -s.size_diff)
    return {
        "traced_mib_before": round(sum(t.size for t in old.traces) / 2**20, 3),
        "traced_mib_after": round(sum(t.size for t in new.traces) / 2**20, 3),
        "sites": [
            {
                "site": f"{stat.traceback[0].filename}:{stat.traceback[0].lineno}",
                "grew_kib": round(stat.size_diff / 1024, 1),
                "blocks_grew": stat.count_diff,
                "held_kib": round(stat.size / 1024, 1),
            }
            for stat in stats[:top]
        ],
    }


def _run(mode: str, workdir: Path, traced: bool) -> dict[str, Any]:
    run_s, sample_s, fault_s, tick_s = _SIZES[mode]
    mark_s = run_s / 3  # 10 minutes of a full run's 30
    sim = _perpsbot("sim", "--seed", "3", "--tick-interval-s", str(tick_s))
    assert sim.stdout is not None
    bot = None
    try:
        rest = _wait_line(sim.stdout, "rest:").split()[1]
        market = _wait_line(sim.stdout, "market ws:").split()[2]
        user = _wait_line(sim.stdout, "user ws:").split()[2]
        control = _wait_line(sim.stdout, "control:").split()[1]
        _drain(sim.stdout)
        env = {
            "PERPSBOT_VENUE_REST_BASE_URL": rest,
            "PERPSBOT_VENUE_MARKET_WS_URL": market,
            "PERPSBOT_VENUE_USER_WS_URL": user,
            "PERPSBOT_JOURNAL_PATH": str(workdir / "journal.sqlite3"),
            "PERPSBOT_MARKET_DATA_UPDATE_INTERVAL_S": "0.5",
            "PERPSBOT_MARKET_DATA_SHORT_MA": "2",
            "PERPSBOT_MARKET_DATA_LONG_MA": "5",
        }
        traces = ("--tracemalloc", str(workdir)) if traced else ()
        bot = _perpsbot("run", "--profile", "dev", *traces, env=env)
        assert bot.stdout is not None
        _wait_line(bot.stdout, "cycle 1:")
        orders = _count_fills(bot.stdout)
        faults = FaultSchedule(control, every_s=fault_s)
        faults.start()
        started = time.monotonic()
        samples: list[tuple[float, float]] = []
        snapshots: list[Path] = []
        while (elapsed := time.monotonic() - started) < run_s:
            samples.append((round(elapsed, 1), round(_rss_mib(bot.pid), 2)))
            if traced and not snapshots and elapsed >= mark_s:
                snapshots.append(_snapshot(bot.pid, workdir, 1))
            time.sleep(min(sample_s, max(run_s - elapsed, 0.0)))
        samples.append((round(time.monotonic() - started, 1), round(_rss_mib(bot.pid), 2)))
        faults.stop()
        if traced:
            snapshots.append(_snapshot(bot.pid, workdir, 2))
        peak_mib = int(_status(bot.pid)["VmHWM"].split()[0]) / 1024
        bot.send_signal(signal.SIGTERM)
        code = bot.wait(timeout=60)
    finally:
        if bot is not None and bot.poll() is None:  # the run failed: leave no bot behind
            bot.kill()
            bot.wait(timeout=30)
        sim.send_signal(signal.SIGTERM)
        sim.wait(timeout=30)
    tail = [(t, v) for t, v in samples if t >= mark_s]
    per_10_min = slope_per_s(tail) * 600
    at_mark = min(samples, key=lambda s: abs(s[0] - mark_s))[1]
    return {
        "run_s": run_s,
        "sample_every_s": sample_s,
        "fault_every_s": fault_s,
        "sim_tick_s": tick_s,
        "faults_injected": faults.injected,
        "faults_refused": faults.refused[:10],
        "fills_printed": orders(),
        "rss_start_mib": samples[0][1],
        "rss_at_third_mib": at_mark,
        "rss_end_mib": samples[-1][1],
        "rss_peak_mib": round(peak_mib, 2),
        "tail_slope_mib_per_10_min": round(per_10_min, 3),
        "tail_growth_fitted_mib": round(per_10_min * (run_s - mark_s) / 600, 3),
        "tail_growth_end_minus_third_mib": round(samples[-1][1] - at_mark, 2),
        "exit_code": code,
        "traced_growth": growth_report(*snapshots) if traced else None,
        "samples": samples,
    }


def _count_fills(stream: IO[str]) -> Callable[[], int]:
    """Read the bot's output on a thread, counting the fills it prints; returns the count."""
    count = [0]

    def read() -> None:
        for line in stream:
            if "): filled " in line:
                count[0] += 1

    threading.Thread(target=read, daemon=True).start()
    return lambda: count[0]


def main(*, mode: str = "full", out: Path | None = None, traced: bool = False) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="perpsbot-bench-memory-") as top:
        run = _run(mode, Path(top), traced)
    minutes = run["run_s"] / 60
    print_table(
        f"perpsbot run --profile dev against perpsbot sim with venue faults ({mode}: "
        f"{minutes:.1f} min, niceness {os.nice(0)}{', tracemalloc on' if traced else ''})",
        ["start MiB", "at 1/3 MiB", "end MiB", "slope MiB/10 min", "fitted growth MiB",
         "faults", "fills"],
        [[f"{run['rss_start_mib']:.1f}", f"{run['rss_at_third_mib']:.1f}",
          f"{run['rss_end_mib']:.1f}", f"{run['tail_slope_mib_per_10_min']:.2f}",
          f"{run['tail_growth_fitted_mib']:.2f}", str(run["faults_injected"]),
          str(run["fills_printed"])]],
    )  # fmt: skip
    if run["traced_growth"] is not None:
        report = run["traced_growth"]
        print(
            f"\ntraced by tracemalloc: {report['traced_mib_before']:.2f} MiB after the first"
            f" third, {report['traced_mib_after']:.2f} MiB at the end; the sites that grew most:"
        )
    for site in (run["traced_growth"] or {}).get("sites", []):
        print(f"  +{site['grew_kib']:8.1f} KiB  {site['blocks_grew']:+7d} blocks  {site['site']}")
    figures = {
        "mode": mode,
        "repeats": 1,
        "niceness": os.nice(0),
        "tracemalloc": traced,
        "targets": {"tail_growth_mib": TARGET_GROWTH_MIB},
        "run": run,
    }
    write_json("memory-tracemalloc" if traced else "memory", figures, out)
    return figures
