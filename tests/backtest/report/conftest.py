from __future__ import annotations

from pathlib import Path

import pytest

from perpsbot.backtest.report import BacktestReport, build_report
from tests.backtest.report.small_run import MARKS, START, write_small_run


@pytest.fixture
def journal(tmp_path: Path) -> Path:
    return write_small_run(tmp_path / "journal.sqlite3")


@pytest.fixture
def report(journal: Path) -> BacktestReport:
    return build_report(journal, marks=MARKS, starting_equity=START)
