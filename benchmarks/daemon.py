"""The bot as an operator runs it: ``perpsbot run`` alone, against ``perpsbot sim`` in another
process, at idle and at realistic feed rates.

Each scenario starts a fresh sim (``--tick-interval-s``: each step sends one level2 and one
ticker frame per symbol; the bot unsubscribes the ticker once its books are ready, so it
receives about one frame per step and symbol) and a fresh bot pointed at it through
``venue.*_url``, then reads
the bot's own process from ``/proc``: CPU time over a measured window (as % of one core, and
per frame the feed received, counted by the bot's ``/metrics``), RSS and threads. It also
times start to the first printed cycle (which shows every symbol's first mark) and SIGTERM to
exit. Linux only (``/proc``). The sim's own CPU is not counted; on a 2-core machine it
competes with the bot, so run on a quiet machine for figures to keep.

Targets (issue 9): idle under 0.5% of a core; 4 x 200 level2 frames/s under 2%; RSS under
64 MiB; first mark within 1 s of start; exit within 0.5 s.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any

import requests

from benchmarks._report import median, print_table, write_json

SYMBOLS = ("BTC-USD", "ETH-USD", "BIP-20DEC30-CDE", "ETP-20DEC30-CDE")
IDLE_TICK_S = 3600.0  # no market steps: heartbeats only
RATE_TICK_S = 1 / 200  # 200 steps/s: 200 level2 frames per symbol per second

# name, symbols, sim tick
SCENARIOS = (
    ("idle, 1 symbol", 1, IDLE_TICK_S),
    ("idle, 4 symbols", 4, IDLE_TICK_S),
    ("200 l2/s, 1 symbol", 1, RATE_TICK_S),
    ("200 l2/s x 4 symbols", 4, RATE_TICK_S),
)

_PAGE = os.sysconf("SC_PAGE_SIZE")


def _cpu_ns_by_thread(pid: int) -> dict[str, int]:
    """CPU nanoseconds each thread of process ``pid`` has run so far (``schedstat``;
    ``stat``'s clock ticks are 10 ms, too coarse for an idle bot)."""
    times = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            times[task.name] = int((task / "schedstat").read_text().split()[0])
        except FileNotFoundError:
            continue  # a thread that ended just now
    return times


def _cpu_s(before: dict[str, int], after: dict[str, int]) -> float:
    """CPU seconds run between two readings: a thread started meanwhile counts from zero;
    one that ended meanwhile is missing from ``after`` (its last slice is lost, never
    subtracted)."""
    return sum(ns - before.get(tid, 0) for tid, ns in after.items()) / 1e9


def _status(pid: int) -> dict[str, str]:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return dict(line.split(":", 1) for line in lines if ":" in line)


def _rss_mib(pid: int) -> float:
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE / 2**20


def _perpsbot(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "perpsbot", "--log-level", "WARNING", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, **(env or {})},
    )


def _wait_line(stream: IO[str], prefix: str) -> str:
    for line in stream:
        if line.startswith(prefix):
            return line
    raise RuntimeError(f"the process ended before printing {prefix!r}")


def _frames(metrics_url: str) -> float:
    text = requests.get(metrics_url, timeout=5).text
    match = re.search(r"^perpsbot_feed_frames_total (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def _drain(stream: IO[str]) -> threading.Thread:
    """Keep reading ``stream`` so the process never blocks on a full pipe."""
    thread = threading.Thread(target=lambda: [None for _ in stream], daemon=True)
    thread.start()
    return thread


def _scenario(
    symbols: int, tick_s: float, window_s: float, warmup_s: float, workdir: Path
) -> dict[str, Any]:
    sim = _perpsbot("sim", "--seed", "1", "--tick-interval-s", str(tick_s))
    assert sim.stdout is not None
    try:
        rest = _wait_line(sim.stdout, "rest:").split()[1]
        market = _wait_line(sim.stdout, "market ws:").split()[2]
        _drain(sim.stdout)
        env = {
            "PERPSBOT_VENUE_REST_BASE_URL": rest,
            "PERPSBOT_VENUE_MARKET_WS_URL": market,
            "PERPSBOT_MARKET_DATA_SYMBOLS": ",".join(SYMBOLS[:symbols]),
            "PERPSBOT_JOURNAL_PATH": str(workdir / "journal.sqlite3"),
        }
        started = time.perf_counter()
        bot = _perpsbot("run", "--profile", "dev", env=env)
        assert bot.stdout is not None
        metrics = _wait_line(bot.stdout, "  metrics  ").split()[1]
        _wait_line(bot.stdout, "cycle 1:")
        first_mark_s = time.perf_counter() - started
        _drain(bot.stdout)
        time.sleep(warmup_s)  # past start-up work (connects, product lookups)
        frames_before = _frames(metrics)
        cpu_before, wall_before = _cpu_ns_by_thread(bot.pid), time.perf_counter()
        time.sleep(window_s)
        cpu_after, wall_after = _cpu_ns_by_thread(bot.pid), time.perf_counter()
        frames = _frames(metrics) - frames_before
        status = _status(bot.pid)
        rss_mib = _rss_mib(bot.pid)
        stopping = time.perf_counter()
        bot.send_signal(signal.SIGTERM)
        code = bot.wait(timeout=30)
        exit_s = time.perf_counter() - stopping
    finally:
        sim.send_signal(signal.SIGTERM)
        sim.wait(timeout=30)
    cpu_s, wall_s = _cpu_s(cpu_before, cpu_after), wall_after - wall_before
    return {
        "symbols": symbols,
        "sim_tick_s": tick_s,
        "window_s": round(wall_s, 3),
        "frames_per_s": round(frames / wall_s, 1),
        "cpu_percent_of_one_core": round(100 * cpu_s / wall_s, 3),
        # Idle, the few frames (a replaced connection's snapshots) are not what CPU is spent on.
        "cpu_us_per_frame": round(1e6 * cpu_s / frames, 1) if frames >= 10 * wall_s else None,
        "rss_mib": round(rss_mib, 1),
        "peak_rss_mib": round(int(status["VmHWM"].split()[0]) / 1024, 1),
        "threads": int(status["Threads"]),
        "start_to_first_mark_s": round(first_mark_s, 3),
        "sigterm_to_exit_s": round(exit_s, 3),
        "exit_code": code,
    }


# mode -> (measured window, warm-up, repeats, scenarios)
_SIZES: dict[str, tuple[float, float, int, tuple[tuple[str, int, float], ...]]] = {
    "full": (20.0, 2.0, 3, SCENARIOS),
    "quick": (3.0, 2.0, 1, SCENARIOS),
    "smoke": (1.0, 0.5, 1, (SCENARIOS[0], SCENARIOS[3])),
}


def main(*, mode: str = "full", out: Path | None = None) -> dict[str, Any]:
    window_s, warmup_s, repeats, scenarios = _SIZES[mode]
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="perpsbot-bench-") as top:
        for name, symbols, tick_s in scenarios:
            runs = [
                _scenario(
                    symbols, tick_s, window_s, warmup_s, Path(top) / f"{name}-{n}".replace(" ", "_")
                )
                for n in range(repeats)
            ]
            results[name] = {key: _median(runs, key) for key in _MEDIANS} | {"runs": runs}
    rows = [
        [
            name,
            f"{r['frames_per_s']:.0f}",
            f"{r['cpu_percent_of_one_core']:.2f}",
            "-" if r["cpu_us_per_frame"] is None else f"{r['cpu_us_per_frame']:.0f}",
            f"{r['rss_mib']:.1f}",
            str(r["threads"]),
            f"{r['start_to_first_mark_s']:.2f}",
            f"{r['sigterm_to_exit_s']:.2f}",
        ]
        for name, r in results.items()
    ]
    print_table(
        f"perpsbot run against perpsbot sim in another process ({mode}: {window_s:.0f} s"
        f" windows, median of {repeats})",
        ["scenario", "frames/s", "cpu %", "us/frame", "rss MiB", "threads", "first mark s",
         "exit s"],
        rows,
    )  # fmt: skip
    figures = {
        "mode": mode,
        "repeats": repeats,
        "window_s": window_s,
        "targets": {
            "idle_cpu_percent": 0.5,
            "4x200_cpu_percent": 2.0,
            "rss_mib": 64,
            "first_mark_s": 1.0,
            "exit_s": 0.5,
        },
        "scenarios": results,
    }
    write_json("daemon", figures, out)
    return figures


def _median(runs: list[dict[str, Any]], key: str) -> float | None:
    values = [run[key] for run in runs if run[key] is not None]
    return median(values) if values else None


_MEDIANS = (
    "frames_per_s",
    "cpu_percent_of_one_core",
    "cpu_us_per_frame",
    "rss_mib",
    "threads",
    "start_to_first_mark_s",
    "sigterm_to_exit_s",
)
