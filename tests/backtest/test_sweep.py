from __future__ import annotations

import json
from pathlib import Path

import pytest

from perpsbot.backtest._sweep import grid
from perpsbot.cli import main
from tests.backtest.conftest import SPAN


def test_a_sweep_grid_is_every_combination_of_ranges_and_lists() -> None:
    assert grid(["market_data.short_ma=3..4", "strategy.enable_shorts=true,false"]) == [
        {"market_data.short_ma": "3", "strategy.enable_shorts": "true"},
        {"market_data.short_ma": "3", "strategy.enable_shorts": "false"},
        {"market_data.short_ma": "4", "strategy.enable_shorts": "true"},
        {"market_data.short_ma": "4", "strategy.enable_shorts": "false"},
    ]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("short_ma=3..4", "--sweep must be section.key=A..B or section.key=A,B,C, was"),
        ("market_data.short_ma=5..3", "--sweep market_data.short_ma: a range must not run"),
        ("market_data.short_ma=a..b", "--sweep market_data.short_ma: a range must be two"),
    ],
)
def test_a_sweep_spec_that_is_not_a_grid_is_refused_by_name(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        grid([spec])


def test_backtest_sweep_runs_the_grid_in_processes_and_ranks_by_net_pnl(
    candle_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "bot.toml"
    config.write_text('[market_data]\nsymbols = ["BIP-20DEC30-CDE"]\n')
    runs = tmp_path / "sweep"

    code = main([
        "--log-level", "WARNING", "backtest", "--data", str(candle_store), "--config",
        str(config), "--from", str(SPAN[0]), "--until", "30m", "--journal", str(runs),
        "--sweep", "market_data.short_ma=2..3", "--processes", "2", "--json",
    ])  # fmt: skip

    assert code == 0
    ranked = json.loads(capsys.readouterr().out)
    assert sorted(r["values"]["market_data.short_ma"] for r in ranked) == ["2", "3"]
    assert [float(r["net_pnl"]) for r in ranked] == sorted(
        (float(r["net_pnl"]) for r in ranked), reverse=True
    )
    assert all(r["bars"] == 60 for r in ranked)
    assert sorted(p.name for p in runs.iterdir() if p.suffix == ".sqlite3") == [
        "run-1.sqlite3", "run-2.sqlite3",
    ]  # fmt: skip
