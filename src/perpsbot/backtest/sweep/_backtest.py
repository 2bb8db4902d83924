"""The run of ``perpsbot backtest --sweep``: one backtest of one grid point, in its own journal
under the sweep's folder, measured by its report.

A point's values are given to the configuration as their ``PERPSBOT_<SECTION>_<KEY>``
environment variables would be, so each is validated as any setting is (a bad value is named
with its key). :func:`check_point` does that before any run starts; :func:`run_point` runs one
(in a worker process or a Ray task: it is a module-level function, given its
:class:`SweepSettings` by ``functools.partial``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from perpsbot.backtest._run import run_backtest
from perpsbot.backtest.report import build_report
from perpsbot.config import BotConfig, env_var, load_config
from perpsbot.data import CandleStore
from perpsbot.errors import BacktestInputError

__all__ = ["SweepSettings", "check_point", "journal_of", "run_point"]


@attrs.frozen(kw_only=True)
class SweepSettings:
    """What every run of a sweep shares (picklable: it travels to processes and Ray)."""

    config_file: Path | None
    profile: str | None
    data: Path
    folder: Path
    """The sweep's journals: one a point, named by :func:`journal_of`."""
    granularity: str
    span: tuple[int, int] | None
    seed: int


def journal_of(folder: Path, point: Mapping[str, str]) -> Path:
    """The journal of ``point``'s run: ``market_data.short_ma=3_market_data.long_ma=20.sqlite3``."""
    return folder / ("_".join(f"{name}={value}" for name, value in point.items()) + ".sqlite3")


def check_point(settings: SweepSettings, point: Mapping[str, str]) -> BotConfig:
    """The configuration of ``point``'s run.

    Raises:
        BacktestInputError: a parameter that is not a ``section.key`` setting.
        InvalidConfigError: a value its setting refuses (named with its key).
    """
    env = dict(os.environ)
    for name, value in point.items():
        section, _, key = name.partition(".")
        if "." in key:
            raise BacktestInputError(
                f"a sweep sets section.key settings, {name!r} has more than one dot"
            )
        env[env_var(section, key)] = value
    return load_config(settings.config_file, profile=settings.profile, env=env, live=False)


def run_point(settings: SweepSettings, point: Mapping[str, str]) -> dict[str, Any]:
    """Runs ``point``'s backtest and returns its report's total measures
    (:meth:`perpsbot.backtest.report.Measures.to_json`)."""
    config = check_point(settings, point)
    with CandleStore(settings.data) as store:
        result = run_backtest(
            config, store=store, journal=journal_of(settings.folder, point),
            granularity=settings.granularity, span=settings.span, seed=settings.seed,
        )  # fmt: skip
    report = build_report(
        result.journal_path, marks=result.marks, starting_equity=result.starting_equity
    )
    return report.total.to_json()
