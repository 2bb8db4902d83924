"""Backtest benchmark: stored one-minute candles of two perp-style futures through the whole
actor tree with the dev strategy trading (``perpsbot backtest``'s run), in bars per second,
with the process's RSS before and after.

Sizes: full, 30 days of two symbols (86,400 bars; issue 16's target is at most 30 s, about
3,000 bars/s); quick, one day (2,880 bars); smoke, an hour. The candles come from the
simulated exchange's generated history, downloaded into a store as ``perpsbot data
download`` does. The one-thread floor (the same strategy, risk rules and position maths by
direct calls, built with the report in ``perpsbot.backtest.report``) is run beside it when
that module offers one: see :func:`_floor`.
"""

from __future__ import annotations

import importlib
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import attrs
import requests

from benchmarks._report import cpu_s, write_json
from perpsbot.backtest import run_backtest
from perpsbot.clock import FakeClock, stopwatch_ns
from perpsbot.config import JournalConfig, load_config
from perpsbot.data import CandleStore, download_candles
from perpsbot.sim import SimConfig, SimExchange
from perpsbot.venue import RestClient, VenueRateLimiter
from perpsbot.venue.ratelimit import RateLimits

SYMBOLS = ("BIP-20DEC30-CDE", "ETP-20DEC30-CDE")
DAYS = {"full": 30.0, "quick": 1.0, "smoke": 1 / 24}
_PAGE = os.sysconf("SC_PAGE_SIZE")
_UNLIMITED = RateLimits(
    private_per_s=1e9, public_per_s=1e9, private_burst=10**9, public_burst=10**9
)


def _rss_mib() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * _PAGE / 2**20


def _store(path: Path, days: float) -> tuple[int, int]:
    """Download ``days`` of the exchange's history before its start; the span."""
    clock = FakeClock()
    until = clock.time_ns() // 10**9 // 86_400 * 86_400
    span = (until - int(days * 86_400), until)
    with SimExchange(SimConfig(verify_auth=False, tick_interval_s=None), clock=clock) as sim:
        session = requests.Session()
        session.mount(sim.rest_base_url, sim.in_process_adapter())
        client = RestClient(
            base_url=sim.rest_base_url,
            signer=None,
            limiter=VenueRateLimiter(clock=clock, limits=_UNLIMITED),
            session=session,
        )
        with CandleStore(path) as store:
            for symbol in SYMBOLS:
                download_candles(
                    client, store, product_id=symbol, granularity="ONE_MINUTE", span=span
                )
        client.close()
    return span


def _floor(store: Path, span: tuple[int, int]) -> dict[str, Any] | None:
    """THE FLOOR HOOK: the one-thread floor from ``perpsbot.backtest.report.floor`` (built
    with the report), reported side by side; None while that module offers none."""
    try:
        floor: Any = importlib.import_module("perpsbot.backtest.report.floor")
    except ImportError:
        return None
    run = getattr(floor, "run_floor", None)
    if run is None:
        return None
    result: dict[str, Any] = run(store, symbols=SYMBOLS, granularity="ONE_MINUTE", span=span)
    return result


def main(*, mode: str = "full", out: Path | None = None) -> dict[str, Any]:
    logging.getLogger("perpsbot").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="perpsbot-backtest-") as tmp:
        folder = Path(tmp)
        store_path = folder / "candles.sqlite3"
        span = _store(store_path, DAYS[mode])
        journal = folder / "backtest.sqlite3"
        config = load_config(None, profile="dev", env={})
        config = attrs.evolve(
            config,
            market_data=attrs.evolve(config.market_data, symbols=SYMBOLS),
            journal=JournalConfig(path=journal),
        )
        rss_start = _rss_mib()
        cpu_start, wall_start = cpu_s(), stopwatch_ns()
        with CandleStore(store_path) as store:
            result = run_backtest(config, store=store, journal=journal, span=span, seed=1)
        wall = (stopwatch_ns() - wall_start) / 1e9
        cpu = cpu_s() - cpu_start
        rss_end = _rss_mib()
        floor = _floor(store_path, span)
    figures: dict[str, Any] = {
        "mode": mode,
        "days": DAYS[mode],
        "symbols": list(SYMBOLS),
        "bars": result.bars,
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "bars_per_s": round(result.bars / wall, 1),
        "timers_fired": result.counts.timers,
        "path_points": result.counts.points,
        "rss_mib": {"start": round(rss_start, 1), "end": round(rss_end, 1)},
        "target": {"bars_per_s": 3_000, "full_run_s": 30},
        "floor": floor,
    }
    print(
        f"backtest: {result.bars} bars in {wall:.1f} s ({figures['bars_per_s']} bars/s,"
        f" CPU {cpu:.1f} s), RSS {rss_start:.0f} -> {rss_end:.0f} MiB"
        + ("" if floor is None else f"; floor {floor}")
    )
    write_json("backtest", figures, out)
    return figures
