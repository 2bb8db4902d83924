from __future__ import annotations

import json
from pathlib import Path

import pytest

from perpsbot.cli import main
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


def test_backtest_json_summary_counts_the_bars_of_the_span_asked(
    candle_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    journal = tmp_path / "run.sqlite3"
    config = tmp_path / "bot.toml"
    config.write_text('[market_data]\nsymbols = ["BIP-20DEC30-CDE"]\n')

    code = main([
        "--log-level", "WARNING", "backtest", "--data", str(candle_store), "--config",
        str(config), "--from", str(SPAN[0]), "--until", "30m", "--journal", str(journal),
        "--json",
    ])  # fmt: skip

    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["bars"] == 60  # one symbol, from the span's start to 30 minutes before its end
    assert summary["journal"] == str(journal)
