"""Runs every point of a sweep's grid through one callable, on processes or on Ray, and ranks
the runs by a measure.

The callable takes one point (``{name: value}``, text) and returns its measures (a mapping of
names to numbers, decimal strings or None, e.g. ``BacktestReport.total.to_json()``). It must
be importable by its module and name (a module-level function, or a ``functools.partial`` of
one): processes are started with ``spawn`` and Ray ships it by reference, so neither a lambda
nor a closure travels. A run that raises is reported with its error; the others go on.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs

from perpsbot.backtest.sweep._grid import Grid
from perpsbot.errors import BacktestInputError, MissingExtraError

__all__ = ["DEFAULT_COLUMNS", "SweepResult", "SweepRun", "rank", "render_ranked", "run_sweep"]

SweepRun = Callable[[Mapping[str, str]], Mapping[str, Any]]

#: The measures a ranked table shows when present, after the one it ranks by.
DEFAULT_COLUMNS = ("net_pnl", "trades", "win_rate", "max_drawdown_pct", "sharpe", "sortino")


@attrs.frozen(kw_only=True)
class SweepResult:
    """One point of the grid and its measures, or the error its run raised."""

    parameters: Mapping[str, str]
    measures: Mapping[str, Any] | None
    error: str | None = None


def run_sweep(
    run: SweepRun,
    grid: Grid,
    *,
    workers: int | None = None,
    ray_address: str | None = None,
) -> list[SweepResult]:
    """Every point of ``grid`` through ``run``, in the grid's order: on up to ``workers``
    processes of this machine (default: one a CPU), or, with ``ray_address``, as Ray tasks
    (``"local"`` starts a Ray instance on this machine for the sweep; ``"auto"``, a
    ``HOST:PORT`` or a ``ray://HOST:PORT`` joins a running cluster).

    Raises:
        MissingExtraError: ``ray_address`` without Ray installed (``perpsbot[ray]``).
    """
    points = list(grid.points())
    if ray_address is not None:
        outcomes = _on_ray(run, points, ray_address)
    else:
        one = functools.partial(_run_one, run)
        workers = min(workers or os.cpu_count() or 1, len(points)) or 1
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=spawn) as pool:
            outcomes = list(pool.map(one, points))
    return [
        SweepResult(parameters=point, measures=measures, error=error)
        for point, (measures, error) in zip(points, outcomes, strict=True)
    ]


def _run_one(
    run: SweepRun, point: Mapping[str, str]
) -> tuple[Mapping[str, Any] | None, str | None]:
    try:
        return dict(run(point)), None
    except Exception as error:  # one failing combination must not lose the others' results
        return None, f"{type(error).__name__}: {error}"


def _on_ray(
    run: SweepRun,
    points: list[dict[str, str]],
    address: str,
) -> list[tuple[Mapping[str, Any] | None, str | None]]:
    try:
        import ray  # noqa: PLC0415 - an optional extra, loaded when used
    except ModuleNotFoundError as e:
        raise MissingExtraError(
            f"--ray needs Ray, which is not installed ({e}): pip install 'perpsbot[ray]'"
        ) from e
    started = not ray.is_initialized()
    if started:
        if address == "local":
            ray.init(address="local", include_dashboard=False, log_to_driver=False)
        else:
            ray.init(address=address, log_to_driver=False)
    try:
        task, shipped = ray.remote(_run_one), ray.put(run)  # the callable shipped once
        outcomes: list[tuple[Mapping[str, Any] | None, str | None]] = ray.get(
            [task.remote(shipped, point) for point in points]
        )
        return outcomes
    finally:
        if started:
            ray.shutdown()


def rank(results: Sequence[SweepResult], by: str, *, descending: bool = True) -> list[SweepResult]:
    """``results`` best first by measure ``by`` (highest first unless not ``descending``);
    runs without it (an error, or an undefined ratio) last, in grid order.

    Raises:
        BacktestInputError: no run has a measure named ``by``.
    """
    known = sorted({name for r in results if r.measures is not None for name in r.measures})
    if results and by not in known:
        raise BacktestInputError(f"cannot rank by {by!r}: the runs' measures are {known}")
    scored = [(_number(r.measures.get(by)) if r.measures else None, r) for r in results]
    valued = [(score, r) for score, r in scored if score is not None]
    valued.sort(key=lambda item: item[0], reverse=descending)
    return [r for _, r in valued] + [r for score, r in scored if score is None]


def render_ranked(
    results: Sequence[SweepResult],
    by: str,
    *,
    descending: bool = True,
    columns: Sequence[str] = DEFAULT_COLUMNS,
) -> str:
    """A table for people: one row a run, best first by ``by``, its parameters and measures
    (``by``, then those of ``columns`` the runs have); failed runs last with their error."""
    ranked = rank(results, by, descending=descending)
    names = list(dict.fromkeys(name for r in results for name in r.parameters))
    present = {name for r in results if r.measures is not None for name in r.measures}
    shown = [by, *(c for c in columns if c in present and c != by)]
    rows = [["#", *names, *shown]]
    failures: dict[int, list[str]] = {}
    for n, result in enumerate(ranked, start=1):
        rows.append([str(n), *(result.parameters.get(name, "") for name in names)])
        if result.measures is None:
            failures[n] = [f"failed: {result.error}"]
        else:
            rows[-1] += [_cell(result.measures.get(column)) for column in shown]
    widths = [max(len(row[i]) for row in rows if i < len(row)) for i in range(len(rows[0]))]
    lines = [
        "  ".join([cell.rjust(widths[i]) for i, cell in enumerate(row)] + failures.get(n, []))
        for n, row in enumerate(rows)
    ]
    order = "highest" if descending else "lowest"
    return "\n".join([f"{len(results)} runs, ranked by {by} ({order} first)", *lines]) + "\n"


def _number(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
