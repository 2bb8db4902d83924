"""``perpsbot backtest --sweep``: the grid's backtests on processes (or Ray), each in its own
journal, ranked with their reports' measures."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from perpsbot.cli import main
from tests.backtest.conftest import SPAN


def _sweep(candle_store: Path, tmp_path: Path, *extra: str) -> int:
    """Half an hour of one symbol from the span's start, one backtest a point."""
    config = tmp_path / "bot.toml"
    config.write_text('[market_data]\nsymbols = ["BIP-20DEC30-CDE"]\n')
    return main([
        "--log-level", "WARNING", "backtest", "--data", str(candle_store), "--config",
        str(config), "--from", str(SPAN[0]), "--until", "60m", "--journal",
        str(tmp_path / "sweep"), "--sweep", *extra,
    ])  # fmt: skip


@pytest.mark.slow  # spawns worker processes
def test_a_sweep_runs_each_point_in_its_own_journal_and_ranks_by_the_reports_net_pnl(
    candle_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _sweep(candle_store, tmp_path, "market_data.short_ma=2..3", "--processes", "2", "--json")

    assert code == 0
    ranked = json.loads(capsys.readouterr().out)
    assert sorted(r["parameters"]["market_data.short_ma"] for r in ranked) == ["2", "3"]
    nets = [float(r["measures"]["net_pnl"]) for r in ranked]
    assert nets == sorted(nets, reverse=True)
    assert all({"trades", "win_rate", "fees", "sharpe"} <= set(r["measures"]) for r in ranked)
    assert sorted(Path(r["journal"]).name for r in ranked) == [
        "market_data.short_ma=2.sqlite3", "market_data.short_ma=3.sqlite3",
    ]  # fmt: skip
    assert all(Path(r["journal"]).is_file() for r in ranked)


@pytest.mark.slow  # spawns a worker process
def test_a_sweeps_table_shows_each_runs_parameters_and_measures(
    candle_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _sweep(candle_store, tmp_path, "market_data.short_ma=2,3", "--processes", "1") == 0

    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "2 runs, ranked by net_pnl (highest first)"
    assert lines[1].split()[:6] == [
        "#",
        "market_data.short_ma",
        "net_pnl",
        "gross_pnl",
        "fees",
        "funding",
    ]
    assert "sortino" in lines[1]
    assert "exposure" in lines[1]
    assert sorted(line.split()[1] for line in lines[2:]) == ["2", "3"]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("short_ma=3..4", "sweep parameter 'short_ma=3..4' must be NAME=VALUES"),
        ("market_data.short_ma=5..3", "FROM..TO must have FROM at most TO"),
        ("market_data.short_ma=0,3", "market_data.short_ma"),
        ("risk.leverage_caps.x=1", "'risk.leverage_caps.x' has more than one dot"),
    ],
)
def test_a_bad_sweep_is_refused_by_name_before_any_backtest_runs(
    candle_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], spec: str, message: str
) -> None:
    assert _sweep(candle_store, tmp_path, spec) == 2

    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("perpsbot backtest: ")
    assert message in err[0]
    assert not (tmp_path / "sweep").exists()


def test_a_sweep_refuses_a_journal_folder_with_runs_in_it(
    candle_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "sweep").mkdir()
    (tmp_path / "sweep" / "old.sqlite3").write_bytes(b"")

    assert _sweep(candle_store, tmp_path, "market_data.short_ma=2") == 1

    assert capsys.readouterr().err.strip().splitlines() == [
        f"perpsbot backtest: a sweep's journal folder must be new or empty, {tmp_path / 'sweep'}"
        " is not"
    ]


@pytest.mark.slow
@pytest.mark.timeout(300)  # a local Ray instance takes ~20 s to start on a busy 2-core machine
@pytest.mark.skipif(
    importlib.util.find_spec("ray") is None,
    reason="the Ray sweep needs the ray extra: pip install 'perpsbot[ray]'",
)
def test_a_sweep_runs_its_backtests_on_a_local_ray_instance(
    candle_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _sweep(candle_store, tmp_path, "market_data.short_ma=2,3", "--ray", "local", "--json")

    assert code == 0
    ranked = json.loads(capsys.readouterr().out)
    assert [r["error"] for r in ranked] == [None, None]
    assert all(Path(r["journal"]).is_file() for r in ranked)
