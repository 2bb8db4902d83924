"""``perpsbot backtest``: the bot's own actor tree over stored candles, faster than real time.

``perpsbot backtest --data candles.sqlite3`` runs the tree of ``perpsbot run`` (the
configured strategy, risk rules, executor, portfolio and journal) against the simulated
exchange driven by the store's candles of ``market_data.symbols``, on a fake clock that
jumps to the next event whenever every actor is idle, then prints its report
(:func:`perpsbot.backtest.report.build_report`; ``--json`` for scripts, ``--chart FILE`` for
the equity curve). Its journal is an ordinary journal: ``perpsbot journal --journal PATH
trades`` reads it.

How a bar moves the market and how orders fill (the slippage model) is in
``docs/backtest.md``: the open, the nearer extreme, the farther extreme and the close in the
bar's first half; the bot decides on closes; a market order fills against the exchange's book
laid around the path price (half a level spacing, plus any depth it walks); fees are the
exchange's (``sim.*_fee_*``), funding accrues and settles by the venue's calendar.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from perpsbot.backtest._replay import ReplayResult, replay_recording
from perpsbot.backtest._run import run_backtest
from perpsbot.backtest.report import build_report, write_chart
from perpsbot.backtest.sweep import (
    SweepSettings,
    check_point,
    journal_of,
    parse_grid,
    rank,
    render_ranked,
    run_point,
    run_sweep,
)
from perpsbot.candle_sizes import GRANULARITY_S
from perpsbot.clock import SystemClock
from perpsbot.config import BotConfig, load_config
from perpsbot.data import CandleStore
from perpsbot.data._when import parse_when
from perpsbot.errors import (
    BacktestError,
    DataStoreError,
    InvalidConfigError,
    MissingExtraError,
    RecordingFormatError,
)
from perpsbot.journal import JournalReader

__all__ = ["configure_parser", "run"]

_FILL_MODEL = (
    "Each bar plays open, nearer extreme, farther extreme, close in its first half and holds"
    " the close; the bot polls quotes every half bar and decides on closes; a market order"
    " fills against the simulated book around the path price (half the product's level"
    " spacing plus the depth it walks: the slippage). Fees: the exchange's sim.* fee rates;"
    " funding: hourly accrual, settled at 04:00 and 16:00 US Eastern. See docs/backtest.md."
)


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.epilog = _FILL_MODEL
    parser.add_argument(
        "--data", required=True, type=Path, metavar="STORE",
        help="candle store (perpsbot data download makes one)",
    )  # fmt: skip
    parser.add_argument("--config", type=Path, help="TOML configuration file (optional)")
    parser.add_argument(
        "--profile", choices=["dev", "canary", "prod"], help="defaults to use (default: dev)"
    )
    parser.add_argument(
        "--from", dest="since", metavar="WHEN",
        help="first bar: 2026-01-01, 2026-01-01T12:00Z, Unix s, or 30d before the data's end"
        " (default: the first stored)",
    )  # fmt: skip
    parser.add_argument("--until", metavar="WHEN", help="end, exclusive (default: the data's end)")
    parser.add_argument(
        "--granularity", default="ONE_MINUTE", choices=list(GRANULARITY_S),
        help="candle width (default: ONE_MINUTE)",
    )  # fmt: skip
    parser.add_argument(
        "--seed", type=int, default=0, help="the exchange's seed: books, prints, ids (default 0)"
    )
    parser.add_argument(
        "--journal", type=Path, metavar="PATH",
        help="the run's journal, a new file (default: backtest-<UTC time>.sqlite3 here;"
        " with --sweep, the folder of the runs' journals)",
    )  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--chart", type=Path, metavar="FILE",
        help="write the equity curve with the trades marked to FILE, one self-contained HTML"
        " file (needs the extra: pip install 'perpsbot[report]')",
    )  # fmt: skip
    parser.add_argument(
        "--sweep", nargs="+", metavar="NAME=VALUES",
        help="run the grid of section.key=FROM..TO (integers), FROM..TO:STEP or A,B,C, one"
        " backtest a point, and rank the runs by net PnL with their reports' measures"
        " (journals: one a point in the folder --journal names)",
    )  # fmt: skip
    parser.add_argument(
        "--processes", type=int, metavar="N",
        help="parallel runs of a sweep on this machine (default: one per CPU)",
    )  # fmt: skip
    parser.add_argument(
        "--ray", metavar="ADDRESS",
        help="run a sweep's backtests on Ray instead: 'local' starts an instance here,"
        " 'auto', HOST:PORT or ray://HOST:PORT joins a cluster whose workers see --data and"
        " --journal at the same paths (needs the extra: pip install 'perpsbot[ray]')",
    )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config, profile=args.profile, env=os.environ, live=False)
        if not args.data.is_file():
            raise DataStoreError(
                f"--data must be a candle store or a feed recording, there is no file"
                f" {args.data} ('perpsbot data download' or 'perpsbot record' makes one)"
            )
        journal = args.journal or Path(
            SystemClock().now().strftime("backtest-%Y%m%dT%H%M%SZ.sqlite3")
        )
        if not args.sweep and (args.processes is not None or args.ray is not None):
            raise ValueError("--processes and --ray run a sweep's backtests: give --sweep too")
        if args.chart is not None and (args.sweep or _is_recording(args.data)):
            raise ValueError(
                "--chart draws one candle backtest's equity, not a sweep's or a replay's"
            )
        if args.sweep:
            return _sweep(args, config, journal)
        if _is_recording(args.data):
            print(f"replay of {args.data}, journal {journal}", file=sys.stderr)
            replayed = replay_recording(
                config, recording=args.data, journal=journal, seed=args.seed
            )
            print(_replay_summary(replayed, as_json=args.json))
            return 0
        with CandleStore(args.data) as store:
            span = _span(args, store, config.market_data.symbols)
            print(
                f"backtest of {', '.join(config.market_data.symbols)} {args.granularity}"
                f" from {args.data}, journal {journal}",
                file=sys.stderr,
            )
            result = run_backtest(
                config, store=store, journal=journal, granularity=args.granularity,
                span=span, seed=args.seed,
            )  # fmt: skip
        print(
            f"{result.bars} bars in {result.elapsed_s:.1f} s, journal {result.journal_path}",
            file=sys.stderr,
        )
        report = build_report(
            result.journal_path, marks=result.marks, starting_equity=result.starting_equity
        )
        print(json.dumps(report.to_json(), indent=2) if args.json else report.render().rstrip())
        if args.chart is not None:
            print(f"chart {write_chart(report, args.chart)}", file=sys.stderr)
    except (InvalidConfigError, ValueError, MissingExtraError) as error:
        print(f"perpsbot backtest: {error}", file=sys.stderr)
        return 2
    except (BacktestError, DataStoreError, RecordingFormatError) as error:
        print(f"perpsbot backtest: {error}", file=sys.stderr)
        return 1
    return 0


_SWEEP_COLUMNS = (
    "net_pnl", "gross_pnl", "fees", "funding", "trades", "win_rate", "max_drawdown_pct",
    "sharpe", "sortino", "exposure",
)  # fmt: skip


def _sweep(args: argparse.Namespace, config: BotConfig, folder: Path) -> int:
    if _is_recording(args.data):
        raise ValueError("--sweep runs over a candle store, --data is a feed recording")
    if args.processes is not None and args.processes < 1:
        raise ValueError(f"--processes must be at least 1, was {args.processes}")
    if args.processes is not None and args.ray is not None:
        raise ValueError("--processes is for this machine, --ray for a cluster: give one")
    if folder.exists() and any(folder.iterdir()):
        raise BacktestError(f"a sweep's journal folder must be new or empty, {folder} is not")
    grid = parse_grid(args.sweep)
    with CandleStore(args.data) as store:
        span = _span(args, store, config.market_data.symbols)
    settings = SweepSettings(
        config_file=args.config, profile=args.profile, data=args.data, folder=folder,
        granularity=args.granularity, span=span, seed=args.seed,
    )  # fmt: skip
    for point in grid.points():  # a bad value fails here, named, before any run starts
        check_point(settings, point)
    folder.mkdir(parents=True, exist_ok=True)
    where = (
        f"on Ray at {args.ray}"
        if args.ray
        else f"{args.processes} at a time"
        if args.processes
        else "one at a time per CPU"
    )
    print(f"sweep of {grid.size} backtests, {where}, journals in {folder}", file=sys.stderr)
    results = run_sweep(
        functools.partial(run_point, settings), grid, workers=args.processes,
        ray_address=args.ray,
    )  # fmt: skip
    failed = [r for r in results if r.error is not None]
    if len(failed) == len(results):
        for r in failed:
            print(f"perpsbot backtest: {dict(r.parameters)} failed: {r.error}", file=sys.stderr)
        return 1
    if args.json:
        ranked = [
            {
                "parameters": dict(r.parameters),
                "journal": str(journal_of(folder, r.parameters)),
                "measures": r.measures,
                "error": r.error,
            }
            for r in rank(results, "net_pnl")
        ]
        print(json.dumps(ranked, indent=2))
    else:
        print(render_ranked(results, "net_pnl", columns=_SWEEP_COLUMNS).rstrip())
    if failed:
        print(f"perpsbot backtest: {len(failed)} of {grid.size} runs failed", file=sys.stderr)
        return 1
    return 0


def _is_recording(path: Path) -> bool:
    """A feed recording is gzip (it starts with gzip's magic bytes); a store is SQLite."""
    with path.open("rb") as file:
        return file.read(2) == b"\x1f\x8b"


def _replay_summary(result: ReplayResult, *, as_json: bool) -> str:
    with JournalReader(result.journal_path) as reader:
        total = reader.pnl().total
        trades = len(reader.trades())
    elapsed = result.elapsed_s
    summary: dict[str, Any] = {
        "journal": str(result.journal_path),
        "frames": result.frames,
        "recorded_s": round(result.recorded_s, 3),
        "elapsed_s": round(elapsed, 3),
        "faster_than_recorded": round(result.recorded_s / elapsed, 1) if elapsed else None,
        "orders": trades,
        "fills": total.fills,
        "net_pnl": format(total.net.quantize(Decimal("0.01")), "f"),
        "counts": attrs.asdict(result.counts),
    }
    if as_json:
        return json.dumps(summary, indent=2)
    return "\n".join(f"{key:<20} {value}" for key, value in summary.items())


def _span(
    args: argparse.Namespace, store: CandleStore, symbols: tuple[str, ...]
) -> tuple[int, int] | None:
    if args.since is None and args.until is None:
        return None
    step = GRANULARITY_S[args.granularity]
    ends = [
        s.last_start_s + step
        for s in store.series()
        if s.product_id in symbols and s.granularity == args.granularity and s.last_start_s
    ]
    end_s = max(ends, default=0)
    since = -(2**62) if args.since is None else parse_when(args.since, now_s=end_s, what="--from")
    until = end_s if args.until is None else parse_when(args.until, now_s=end_s, what="--until")
    if since >= until:
        raise ValueError(f"--from must be before --until (and the data's end), was {since}")
    return since, until
