"""A backtest's report from its journal: trades, win rate, PnL, fees, funding, drawdown,
Sharpe and Sortino, exposure, overall and per symbol (:func:`build_report`), and its equity
curve with the trades marked as a self-contained HTML file (:func:`write_chart`, with the
``perpsbot[report]`` extra)."""

from perpsbot.backtest.report._chart import write_chart
from perpsbot.backtest.report._replay import EquityPoint, RoundTrip
from perpsbot.backtest.report._report import ANNUALISATION, BacktestReport, Measures, build_report

__all__ = [
    "ANNUALISATION",
    "BacktestReport",
    "EquityPoint",
    "Measures",
    "RoundTrip",
    "build_report",
    "write_chart",
]
