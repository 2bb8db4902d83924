from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import pytest

from perpsbot.cli import main
from perpsbot.journal import JournalReader
from tests.backtest.conftest import SPAN


def test_backtest_of_a_missing_store_says_how_to_make_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere.sqlite3"

    assert main(["backtest", "--data", str(missing)]) == 1

    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "perpsbot backtest: --data must be a candle store or a feed recording, there is no"
        f" file {missing} ('perpsbot data download' or 'perpsbot record' makes one)"
    ]


def test_backtest_refuses_a_journal_that_exists(
    candle_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    journal = tmp_path / "kept.sqlite3"
    journal.write_bytes(b"")

    code = main(["backtest", "--data", str(candle_store), "--journal", str(journal)])

    assert code == 1
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"perpsbot backtest: the backtest's journal must be a new file, {journal} exists"
    )


def _backtest(candle_store: Path, tmp_path: Path, *extra: str) -> int:
    """Half an hour of one symbol from the span's start, through ``perpsbot backtest``."""
    config = tmp_path / "bot.toml"
    config.write_text('[market_data]\nsymbols = ["BIP-20DEC30-CDE"]\n')
    return main([
        "--log-level", "WARNING", "backtest", "--data", str(candle_store), "--config",
        str(config), "--from", str(SPAN[0]), "--until", "60m", "--journal",
        str(tmp_path / "run.sqlite3"), *extra,
    ])  # fmt: skip


def test_backtest_json_is_the_report_of_the_span_asked(
    candle_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _backtest(candle_store, tmp_path, "--json") == 0

    report = json.loads(capsys.readouterr().out)
    assert {"start", "end", "starting_equity", "final_equity", "total", "symbols"} <= set(report)
    assert {"trades", "win_rate", "net_pnl", "fees", "funding", "sharpe", "sortino"} <= set(
        report["total"]
    )
    assert list(report["symbols"]) == ["BIP-20DEC30-CDE"]
    # a bar's close is its mark at the bar's end: the first bar's end to the last's
    assert (report["start"], report["end"]) == ("2025-12-30T01:01:00Z", "2025-12-30T01:30:00Z")


def test_backtest_leaves_its_journal_as_one_file_and_no_dead_letter(
    candle_store: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="perpsbot.runtime.deadletters")
    journal = tmp_path / "run.sqlite3"

    assert _backtest(candle_store, tmp_path, "--json") == 0
    with JournalReader(journal) as reader:  # as perpsbot journal reads it
        assert sum(reader.counts().values()) > 0

    assert sorted(p.name for p in tmp_path.iterdir()) == ["bot.toml", "run.sqlite3"]
    assert [r.getMessage() for r in caplog.records if "dead letter" in r.getMessage()] == []


def test_backtest_prints_the_reports_table_and_writes_its_chart(
    candle_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip(
        "plotly", reason="the chart needs the report extra: pip install 'perpsbot[report]'"
    )
    chart = tmp_path / "equity.html"

    assert _backtest(candle_store, tmp_path, "--chart", str(chart)) == 0

    out = capsys.readouterr().out
    assert out.startswith("Backtest 2025-12-30T01:01:00Z -> 2025-12-30T01:30:00Z: equity")
    assert "win rate" in out
    assert chart.stat().st_size > 0
    assert '"name":"equity (USD)"' in chart.read_text()


def test_backtest_chart_without_the_extra_names_the_install_command_in_one_line(
    candle_store: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "plotly.graph_objects", None)  # not importable
    chart = tmp_path / "equity.html"

    assert _backtest(candle_store, tmp_path, "--chart", str(chart)) == 2

    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("perpsbot backtest: the backtest chart needs plotly")
    assert last.endswith("pip install 'perpsbot[report]'")
    assert not chart.exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--processes", "2"], "--processes and --ray run a sweep's backtests: give --sweep too"),
        (["--ray", "local"], "--processes and --ray run a sweep's backtests: give --sweep too"),
        (
            ["--chart", "equity.html", "--sweep", "market_data.short_ma=2,3"],
            "--chart draws one candle backtest's equity, not a sweep's or a replay's",
        ),
    ],
)
def test_backtest_refuses_options_that_would_be_ignored(
    candle_store: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    message: str,
) -> None:
    journal = tmp_path / "run.sqlite3"

    assert main(["backtest", "--data", str(candle_store), "--journal", str(journal), *extra]) == 2

    assert capsys.readouterr().err.strip().splitlines() == [f"perpsbot backtest: {message}"]
    assert not journal.exists()
