from __future__ import annotations

import sys
from pathlib import Path

import pytest

from perpsbot.backtest.report import BacktestReport, write_chart
from perpsbot.errors import MissingExtraError


def test_the_chart_is_one_self_contained_html_file_with_the_curve_and_the_trades(
    report: BacktestReport, tmp_path: Path
) -> None:
    pytest.importorskip(
        "plotly", reason="the chart needs the report extra: pip install 'perpsbot[report]'"
    )

    path = write_chart(report, tmp_path / "charts" / "equity.html")

    html = path.read_text()
    assert path.stat().st_size > 100_000  # plotly.js is inside: it opens offline
    for name in ("equity (USD)", "long opened", "short opened", "closed"):
        assert f'"name":"{name}"' in html
    assert "ETH-USD short, net -4.00 USD (2 fills, fees 3.00)" in html


def test_without_the_extra_the_chart_names_the_install_command(
    report: BacktestReport, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "plotly.graph_objects", None)  # not importable

    with pytest.raises(MissingExtraError, match=r"pip install 'perpsbot\[report\]'"):
        write_chart(report, tmp_path / "equity.html")
    assert not (tmp_path / "equity.html").exists()
