"""Backtest benchmark: stored one-minute candles of two perp-style futures through the whole
actor tree with the dev strategy trading (``perpsbot backtest``'s run), in bars per second,
with the process's RSS before and after.

Sizes: full, 30 days of two symbols (86,400 bars; issue 16's target is at most 30 s, about
3,000 bars/s); quick, one day (2,880 bars); smoke, an hour. The candles come from the
simulated exchange's generated history, downloaded into a store as ``perpsbot data
download`` does. The one-thread floor (:func:`perpsbot.backtest.floor.floor`: the same
strategy, risk rules and position maths by direct calls, no actors and no exchange) runs
beside it over the same candles, products and starting equity, in the same process: its bars/s
and how many times the actor tree's that is (``floor.ratio``).

The replay part records the dev exchange's market feed for a while in real time, as
``perpsbot record --profile dev`` does (full: 5 minutes; quick: a minute; smoke: 5 seconds),
then replays the recording through the tree (``perpsbot backtest --data FILE``): how many times
faster than it was recorded (issue 16's target: at least 50x), start and stop of the tree
included.
"""

from __future__ import annotations

import logging
import os
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import requests

from benchmarks._report import cpu_s, write_json
from perpsbot.backtest import replay_recording, run_backtest
from perpsbot.backtest.floor import floor
from perpsbot.cli import main as perpsbot_main
from perpsbot.clock import FakeClock, stopwatch_ns
from perpsbot.config import BotConfig, JournalConfig, load_config
from perpsbot.data import CandleStore, download_candles
from perpsbot.messages import ProductSpec
from perpsbot.sim import SimConfig, SimExchange
from perpsbot.venue import RestClient, VenueRateLimiter
from perpsbot.venue.advanced_trade import product_spec
from perpsbot.venue.ratelimit import RateLimits

SYMBOLS = ("BIP-20DEC30-CDE", "ETP-20DEC30-CDE")
DAYS = {"full": 30.0, "quick": 1.0, "smoke": 1 / 24}
RECORD_S = {"full": 300.0, "quick": 60.0, "smoke": 5.0}
_PAGE = os.sysconf("SC_PAGE_SIZE")
_UNLIMITED = RateLimits(
    private_per_s=1e9, public_per_s=1e9, private_burst=10**9, public_burst=10**9
)


def _rss_mib() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * _PAGE / 2**20


def _store(path: Path, days: float) -> tuple[tuple[int, int], dict[str, ProductSpec]]:
    """Download ``days`` of the exchange's history before its start; the span, and the
    symbols' specs as the exchange's catalogue gives them to the bot."""
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
        products = {symbol: product_spec(client.product(symbol)) for symbol in SYMBOLS}
        client.close()
    return span, products


def _floor(
    store_path: Path,
    span: tuple[int, int],
    config: BotConfig,
    products: dict[str, ProductSpec],
    *,
    starting_equity: Decimal,
    tree_bars_per_s: float,
) -> dict[str, Any]:
    """The one-thread floor over the tree's candles, from its starting equity; its bars/s
    (reading the candles included, as the tree's run does) and ``ratio``, how many times the
    tree's bars/s that is."""
    started = stopwatch_ns()
    with CandleStore(store_path) as store:
        candles = {symbol: list(store.candles(symbol, "ONE_MINUTE", span)) for symbol in SYMBOLS}
    run = floor(candles, config, products=products, starting_equity=starting_equity)
    wall = (stopwatch_ns() - started) / 1e9
    bars_per_s = run.bars / wall
    return {
        "bars": run.bars,
        "wall_s": round(wall, 3),
        "bars_per_s": round(bars_per_s, 1),
        "orders": len(run.orders),
        "denials": run.denials,
        "ratio": round(bars_per_s / tree_bars_per_s, 1),
    }


def _replay(folder: Path, config: BotConfig, seconds: float) -> dict[str, Any]:
    """Record the dev exchange's feed of :data:`SYMBOLS` for ``seconds`` (real time), then
    replay it through the tree: the recording's span, frames, the replay's wall time and how
    many times faster than recorded."""
    recording, settings = folder / "feed.jsonl.gz", folder / "record.toml"
    # The dev exchange keeps its paper account beside the journal: here, not in var/.
    settings.write_text(f'[journal]\npath = "{folder / "record" / "journal.sqlite3"}"\n')
    argv = ["record", "--profile", "dev", "--config", str(settings), "--symbols", ",".join(SYMBOLS)]
    argv += ["--duration", str(seconds), "--out", str(recording)]
    if perpsbot_main(argv) != 0:
        raise RuntimeError(f"perpsbot {' '.join(argv)} failed")
    result = replay_recording(config, recording=recording, journal=folder / "replay.sqlite3")
    return {
        "recorded_s": round(result.recorded_s, 3),
        "frames": result.frames,
        "wall_s": round(result.elapsed_s, 3),
        "faster_than_recorded": round(result.recorded_s / result.elapsed_s, 1),
        "target_faster": 50,
    }


def main(*, mode: str = "full", out: Path | None = None) -> dict[str, Any]:
    logging.getLogger("perpsbot").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="perpsbot-backtest-") as tmp:
        folder = Path(tmp)
        store_path = folder / "candles.sqlite3"
        span, products = _store(store_path, DAYS[mode])
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
        floor_figures = _floor(
            store_path, span, config, products,
            starting_equity=result.starting_equity, tree_bars_per_s=result.bars / wall,
        )  # fmt: skip
        replay = _replay(folder, config, RECORD_S[mode])
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
        "floor": floor_figures,
        "replay": replay,
    }
    print(
        f"backtest: {result.bars} bars in {wall:.1f} s ({figures['bars_per_s']} bars/s,"
        f" CPU {cpu:.1f} s), RSS {rss_start:.0f} -> {rss_end:.0f} MiB"
        + f"; floor {floor_figures['bars_per_s']} bars/s, {floor_figures['ratio']}x"
        + f"; replay of {replay['recorded_s']:.0f} s recorded in {replay['wall_s']:.1f} s,"
        + f" {replay['faster_than_recorded']}x faster"
    )
    write_json("backtest", figures, out)
    return figures
