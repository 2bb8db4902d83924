"""A parameter sweep: the same backtest over a grid of configuration values, one run per
process, ranked (``perpsbot backtest --sweep market_data.short_ma=3..6 ...``).

Each value is given to the configuration as its ``PERPSBOT_<SECTION>_<KEY>`` environment
variable would be, so it is validated as any setting is (a bad value is named with its key).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import attrs

from perpsbot.config import env_var, load_config

__all__ = ["SweepRun", "grid", "run_sweep"]


def _values(key: str, spec: str) -> list[str]:
    if ".." in spec:
        low, _, high = spec.partition("..")
        if not (low.strip().lstrip("-").isdigit() and high.strip().lstrip("-").isdigit()):
            raise ValueError(f"--sweep {key}: a range must be two integers A..B, was {spec!r}")
        first, last = int(low), int(high)
        if first > last:
            raise ValueError(f"--sweep {key}: a range must not run backwards, was {spec!r}")
        return [str(v) for v in range(first, last + 1)]
    values = [v.strip() for v in spec.split(",") if v.strip()]
    if not values:
        raise ValueError(f"--sweep {key}: needs values (A..B or A,B,C), found none")
    return values


def grid(specs: Sequence[str]) -> list[dict[str, str]]:
    """Every combination of ``section.key=A..B`` (integers) or ``section.key=A,B,C``."""
    axes: dict[str, list[str]] = {}
    for text in specs:
        key, sep, spec = text.partition("=")
        if not sep or key.count(".") != 1:
            raise ValueError(f"--sweep must be section.key=A..B or section.key=A,B,C, was {text!r}")
        axes[key.strip()] = _values(key, spec)
    return [dict(zip(axes, combo, strict=True)) for combo in itertools.product(*axes.values())]


@attrs.frozen(kw_only=True)
class SweepRun:
    """One run of a sweep: everything a worker process needs (picklable)."""

    values: Mapping[str, str]
    config_file: Path | None
    profile: str | None
    data: Path
    journal: Path
    granularity: str
    span: tuple[int, int] | None
    seed: int


def _env(values: Mapping[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    for key, value in values.items():
        env[env_var(*key.split("."))] = value
    return env


def run_one(run: SweepRun) -> dict[str, Any]:
    """Run one backtest of a sweep (in a worker process); its values and summary."""
    # Imported here: a worker imports the tree when it runs, not when the pool starts.
    from perpsbot.backtest._run import run_backtest  # noqa: PLC0415
    from perpsbot.backtest._summary import summary_of  # noqa: PLC0415
    from perpsbot.data import CandleStore  # noqa: PLC0415

    config = load_config(run.config_file, profile=run.profile, env=_env(run.values), live=False)
    with CandleStore(run.data) as store:
        result = run_backtest(
            config, store=store, journal=run.journal, granularity=run.granularity,
            span=run.span, seed=run.seed,
        )  # fmt: skip
    return {"values": dict(run.values), **summary_of(result)}


def run_sweep(runs: Sequence[SweepRun], *, processes: int) -> list[dict[str, Any]]:
    """Every run, ``processes`` at a time, ranked by net PnL (best first)."""
    for run in runs:  # a bad value fails here, named, before any process starts
        load_config(run.config_file, profile=run.profile, env=_env(run.values), live=False)
    # Spawned, not forked: a fork copies whatever threads and locks the parent holds.
    with ProcessPoolExecutor(max_workers=processes, mp_context=get_context("spawn")) as pool:
        results = list(pool.map(run_one, runs))
    return sorted(results, key=lambda r: -float(r["net_pnl"]))
