"""The report's numbers against values computed by hand on a small fixed journal
(``small_run``).

The run, from 10,000 USD, hourly marks from 00:00 to 05:00 UTC on 2026-01-01 (spot, contract
size 1):

    hour  BTC-USD  ETH-USD
    0     100      50
    1     110      50
    2     120      50
    3      90      50
    4     100      40
    5     100      40

    00:30 BTC buy 10 @ 100, fee 1        (opens BTC trip 1, long)
    01:30 BTC sell 5 @ 110, fee 1        (realizes 5 x 10 = 50)
    02:30 BTC sell 5 @ 120, fee 1        (realizes 5 x 20 = 100, flat: trip 1 gross 150, fees 3)
    02:30 ETH sell 4 @ 50, fee 2         (opens ETH trip 2, short)
    03:30 BTC buy 2 @ 90, fee 0.5        (opens BTC trip 3, long)
    03:30 ETH funding: -1 so far         (paid 1, while trip 2 is open)
    03:45 ETH buy 10 @ 50, fee 2.5       (through zero: closes 4 at 50, realizing 0, with
                                          4/10 of the fee = 1: trip 2 gross 0, fees 3,
                                          funding -1, net -4; opens trip 4, long 6 @ 50,
                                          with the other 1.5 of the fee; still open)
    04:30 BTC sell 2 @ 100, fee 0.5      (realizes 2 x 10 = 20, flat: trip 3 gross 20, fees 1)

Each symbol's PnL at each hour (realized - fees + funding + unrealized at the mark):

    hour  BTC                              ETH                         equity
    0     0                                0                           10000
    1     0 - 1 + 10 x 10 = 99             0                           10099
    2     50 - 2 + 5 x 20 = 148            0                           10148
    3     150 - 3 = 147                    -2 + (-4) x 0 = -2          10145
    4     150 - 3.5 + 2 x 10 = 166.5       -4.5 - 1 + 6 x -10 = -65.5  10101
    5     170 - 4 = 166                    -65.5                       10100.5
"""

from __future__ import annotations

import itertools
import math
import statistics
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from perpsbot.backtest.report import BacktestReport, build_report
from perpsbot.errors import BacktestInputError
from tests.backtest.report.small_run import MARKS, START, T0

D = Decimal


def test_the_equity_curve_is_starting_equity_plus_every_pnl_at_each_mark(
    report: BacktestReport,
) -> None:
    assert [p.equity for p in report.curve] == [
        D(10000), D(10099), D(10148), D(10145), D(10101), D("10100.5")
    ]  # fmt: skip
    assert [p.ts_ns for p in report.curve] == [
        int((T0 + timedelta(hours=h)).timestamp()) * 10**9 for h in range(6)
    ]
    assert report.final_equity == D("10100.5")


def test_pnl_fees_and_funding_are_the_journals_in_total_and_per_symbol(
    report: BacktestReport,
) -> None:
    btc, eth = report.symbols
    total = report.total
    assert (btc.gross_pnl, btc.fees, btc.funding, btc.net_pnl) == (D(170), D(4), D(0), D(166))
    assert (eth.gross_pnl, eth.fees, eth.funding, eth.net_pnl) == (
        D(0), D("4.5"), D(-1), D("-5.5")
    )  # fmt: skip
    assert (total.gross_pnl, total.fees, total.funding, total.net_pnl) == (
        D(170), D("8.5"), D(-1), D("160.5")
    )  # fmt: skip
    # unrealized at the end: ETH long 6 from 50, marked 40
    assert (btc.unrealized_pnl, eth.unrealized_pnl, total.unrealized_pnl) == (D(0), D(-60), D(-60))
    assert (btc.fills, eth.fills, total.fills) == (5, 2, 7)


def test_round_trips_go_flat_to_flat_and_win_after_fees_and_funding(
    report: BacktestReport,
) -> None:
    btc, eth = report.symbols
    total = report.total
    assert [(t.symbol, t.long, t.gross, t.fees, t.funding, t.net) for t in report.round_trips] == [
        ("BTC-USD", True, D(150), D(3), D(0), D(147)),
        ("ETH-USD", False, D(0), D(3), D(-1), D(-4)),
        ("BTC-USD", True, D(20), D(1), D(0), D(19)),
        ("ETH-USD", True, D(0), D("1.5"), D(0), D("-1.5")),  # still open
    ]
    assert report.round_trips[-1].closed_ns is None
    assert (btc.trades, btc.wins, btc.open_trades, btc.win_rate) == (2, 2, 0, 1.0)
    assert (eth.trades, eth.wins, eth.open_trades, eth.win_rate) == (1, 0, 1, 0.0)
    assert (total.trades, total.wins, total.open_trades, total.win_rate) == (3, 2, 1, 2 / 3)


def test_drawdown_is_the_largest_fall_from_a_peak_in_usd_and_percent(
    report: BacktestReport,
) -> None:
    btc, eth = report.symbols
    # total: peak 10148 at 02:00, then 10100.5 at 05:00
    assert report.total.max_drawdown_usd == D("47.5")
    assert report.total.max_drawdown_pct == pytest.approx(47.5 / 10148 * 100)
    # BTC: 10148 -> 10147 (1 of 10148) is larger in both than 10166.5 -> 10166 (0.5)
    assert (btc.max_drawdown_usd, btc.max_drawdown_pct) == (D(1), pytest.approx(1 / 10148 * 100))
    # ETH: 10000 -> 9934.5
    assert (eth.max_drawdown_usd, eth.max_drawdown_pct) == (D("65.5"), pytest.approx(0.655))


def test_sharpe_and_sortino_annualise_hourly_returns_over_a_365_day_year(
    report: BacktestReport,
) -> None:
    equity = [10000, 10099, 10148, 10145, 10101, 10100.5]
    r = [now / before - 1 for before, now in itertools.pairwise(equity)]
    per_year = 365 * 24  # hourly marks
    downside = math.sqrt(sum(min(x, 0) ** 2 for x in r) / len(r))

    assert report.periods_per_year == per_year
    assert report.total.sharpe == pytest.approx(
        statistics.mean(r) / statistics.stdev(r) * math.sqrt(per_year)
    )
    assert report.total.sortino == pytest.approx(
        statistics.mean(r) / downside * math.sqrt(per_year)
    )
    eth_r = [0, 0, -2 / 10000, (9934.5 / 9998) - 1, 0]
    eth_downside = math.sqrt(sum(x**2 for x in eth_r if x < 0) / 5)
    assert report.symbols[1].sortino == pytest.approx(
        statistics.mean(eth_r) / eth_downside * math.sqrt(per_year)
    )


def test_exposure_is_the_share_of_the_marks_span_with_a_position_open(
    report: BacktestReport,
) -> None:
    btc, eth = report.symbols
    # 5 hours of marks; BTC 00:30-02:30 and 03:30-04:30, ETH 02:30-05:00 (short, then long)
    assert (btc.exposure, eth.exposure, report.total.exposure) == (3 / 5, 2.5 / 5, 4.5 / 5)


def test_json_keeps_money_exact_and_names_every_measure(report: BacktestReport) -> None:
    data = report.to_json()

    assert data["start"] == "2026-01-01T00:00:00Z"
    assert data["end"] == "2026-01-01T05:00:00Z"
    assert (data["starting_equity"], data["final_equity"]) == ("10000", "10100.5")
    assert data["total"]["net_pnl"] == "160.5"
    assert data["symbols"]["ETH-USD"]["funding"] == "-1"
    assert set(data["total"]) == {
        "trades", "open_trades", "wins", "win_rate", "fills", "gross_pnl", "fees", "funding",
        "net_pnl", "unrealized_pnl", "max_drawdown_usd", "max_drawdown_pct", "sharpe",
        "sortino", "exposure",
    }  # fmt: skip
    assert data["round_trips"][1]["side"] == "short"
    assert data["round_trips"][3]["closed"] is None


def test_the_table_has_a_column_per_symbol_and_states_the_annualisation(
    report: BacktestReport,
) -> None:
    text = report.render()

    assert text.splitlines()[2].split() == ["TOTAL", "BTC-USD", "ETH-USD"]
    net = next(line for line in text.splitlines() if line.startswith("net PnL (realized)"))
    assert net.split()[-3:] == ["160.50", "166.00", "-5.50"]
    assert "66.7%" in text  # the total's win rate
    assert "365-day year" in text


def test_a_naive_mark_time_is_refused_naming_the_symbol(journal: Path) -> None:
    naive = {"BTC-USD": [(datetime(2026, 1, 1), D(100))]}

    with pytest.raises(BacktestInputError, match=r"marks\['BTC-USD'\] times must be time-zone"):
        build_report(journal, marks=naive, starting_equity=START)


def test_a_starting_equity_that_is_not_positive_is_refused(journal: Path) -> None:
    with pytest.raises(BacktestInputError, match="starting_equity must be a positive Decimal"):
        build_report(journal, marks=MARKS, starting_equity=D(0))
