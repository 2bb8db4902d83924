from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from perpsbot.cli import main
from perpsbot.clock import FakeClock
from perpsbot.journal.cli import parse_since
from perpsbot.messages import OrderStatus, Side, TradingState, TransitionSource
from tests.journal.conftest import Nobody, Writer
from tests.journal.events import Events


@pytest.fixture
def journal(writer: Writer, clock: FakeClock, events: Events) -> Path:
    """A round trip on BTC (entry, then exit 10 minutes later) and an ETH entry."""
    entry = events.intent("BTC-USD:entry:1")
    writer.commit(
        events.state(TradingState.REDUCING, None, ("reconciliation pending",)),
        events.record(entry, Nobody()),
        events.order(entry, OrderStatus.FILLED, filled="0.5", price="50000"),
        events.fill(entry, "fill-1", price="50000", fee="1.25"),
    )
    clock.advance(600)
    close = events.intent("BTC-USD:exit:2", side=Side.SELL)
    eth = events.intent("ETH-USD:entry:3", symbol="ETH-USD", size="2")
    writer.commit(
        events.state(TradingState.ACTIVE, TradingState.REDUCING),
        events.record(close, Nobody()),
        events.order(close, OrderStatus.FILLED, filled="0.5", price="50500"),
        events.fill(close, "fill-2", price="50500", fee="1.25"),
        events.funding("-0.42"),
        events.record(eth, Nobody()),
    )
    return writer.path


def test_journal_prints_trades_fills_pnl_and_state_changes_as_tables(
    journal: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["journal", "--journal", str(journal)]) == 0

    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == f"journal {journal}"
    for title in ("Trades (intent", "Fills", "PnL in USD", "Trading state changes"):
        assert any(line.startswith(title) for line in lines), title
    trade = next(line for line in lines if line.startswith("2026-01-01 00:10:00  BTC-USD:exit:2"))
    assert trade.split()[3:9] == ["BTC-USD", "SELL", "entry", "0.5", "filled", "0.5"]
    eth = next(line for line in lines if "ETH-USD:entry:3" in line)
    assert "recorded" in eth.split()
    total = next(line for line in lines if line.startswith("TOTAL"))
    assert total.split() == ["TOTAL", "2", "250.0", "2.50", "-0.42", "247.08"]
    assert "reconciliation pending" in out


def test_json_gives_scripts_the_same_records(
    journal: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["journal", "--journal", str(journal), "--json"]) == 0

    document = json.loads(capsys.readouterr().out)
    assert [t["intent_id"] for t in document["trades"]] == [
        "BTC-USD:entry:1",
        "BTC-USD:exit:2",
        "ETH-USD:entry:3",
    ]
    assert [f["fill_id"] for f in document["fills"]] == ["fill-1", "fill-2"]
    assert document["pnl"][-1] == {
        "symbol": "TOTAL",
        "fills": 2,
        "realized": "250.0",
        "fees": "2.50",
        "funding": "-0.42",
        "net": "247.08",
    }
    assert [(s["previous"], s["state"]) for s in document["states"]] == [
        (None, "reducing"),
        ("reducing", "active"),
    ]


def test_since_and_symbol_narrow_every_view(
    journal: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["journal", "--journal", str(journal), "--json", "--since", "2026-01-01T00:05"]

    assert main([*args, "--symbol", "BTC-USD"]) == 0

    document = json.loads(capsys.readouterr().out)
    assert [t["intent_id"] for t in document["trades"]] == ["BTC-USD:exit:2"]
    assert [f["fill_id"] for f in document["fills"]] == ["fill-2"]
    assert document["pnl"][-1]["realized"] == "250.0"  # the entry before --since still counts
    assert document["pnl"][-1]["fees"] == "1.25"
    assert [s["state"] for s in document["states"]] == ["active"]


def test_one_view_prints_only_that_table(journal: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["journal", "fills", "--journal", str(journal)]) == 0

    out = capsys.readouterr().out
    assert "Fills" in out
    assert "Trades" not in out
    assert "PnL" not in out


def test_it_reads_while_a_writer_holds_an_open_transaction(
    journal: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    writer = sqlite3.connect(journal, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("DELETE FROM fills")  # not committed: readers still see the fills

    try:
        assert main(["journal", "fills", "--journal", str(journal), "--json"]) == 0
    finally:
        writer.execute("ROLLBACK")
        writer.close()

    assert len(json.loads(capsys.readouterr().out)["fills"]) == 2


def test_without_journal_it_reads_the_configured_path(
    journal: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "bot.toml"
    config.write_text(f'[journal]\npath = "{journal}"\n')

    assert main(["journal", "pnl", "--config", str(config), "--json"]) == 0

    assert json.loads(capsys.readouterr().out)["journal"] == str(journal)


def test_a_missing_journal_is_reported_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "none.sqlite3"

    assert main(["journal", "--journal", str(path)]) == 1

    assert capsys.readouterr().err == (
        f"perpsbot journal: journal file {path} must exist to be read, found nothing\n"
    )
    assert not path.exists()


def test_a_missing_journal_named_relative_to_the_working_directory_is_shown_resolved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)

    assert main(["journal", "--journal", "var/dev/journal.sqlite3"]) == 1

    assert capsys.readouterr().err == (
        f"perpsbot journal: journal file {tmp_path}/var/dev/journal.sqlite3 must exist to be"
        " read, found nothing\n"
    )


def test_a_file_that_is_no_journal_is_reported_in_one_line_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "bot.toml"  # --journal mixed up with --config
    config.write_text('[market_data]\nsymbols = ["BTC-USD"]\n')

    assert main(["journal", "--journal", str(config)]) == 1

    assert capsys.readouterr().err == (
        f"perpsbot journal: journal file {config} must be a perpsbot journal (an SQLite"
        " database), was not one (file is not a database)\n"
    )


def test_an_order_of_a_dry_run_shows_as_dry_run_not_cancelled(
    writer: Writer, events: Events, capsys: pytest.CaptureFixture[str]
) -> None:
    would = events.intent("BTC-USD:entry:1")
    cancelled = events.intent("BTC-USD:entry:2")
    writer.commit(
        events.record(would, Nobody()),
        events.dry_run(would),
        events.order(would, OrderStatus.CANCELLED, source=TransitionSource.DRY_RUN),
        events.record(cancelled, Nobody()),
        events.order(cancelled, OrderStatus.CANCELLED, source=TransitionSource.REST),
    )

    assert main(["journal", "trades", "--journal", str(writer.path), "--json"]) == 0

    trades = json.loads(capsys.readouterr().out)["trades"]
    assert [(t["intent_id"], t["status"]) for t in trades] == [
        ("BTC-USD:entry:1", "dry run"),
        ("BTC-USD:entry:2", "cancelled"),
    ]


def test_a_bad_since_is_reported_and_exits_2(
    journal: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["journal", "--journal", str(journal), "--since", "yesterday"]) == 2

    assert "--since must be a UTC date or time" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90m", datetime(2026, 1, 1, 10, 30, tzinfo=UTC)),
        ("12h", datetime(2026, 1, 1, tzinfo=UTC)),
        ("1.5d", datetime(2025, 12, 31, tzinfo=UTC)),
        ("30s", datetime(2026, 1, 1, 11, 59, 30, tzinfo=UTC)),
        ("2026-01-01", datetime(2026, 1, 1, tzinfo=UTC)),
        ("2026-01-01T08:15", datetime(2026, 1, 1, 8, 15, tzinfo=UTC)),
        ("2026-01-01T08:15+02:00", datetime(2026, 1, 1, 6, 15, tzinfo=UTC)),
    ],
)
def test_since_is_a_utc_time_or_an_age_before_now(text: str, expected: datetime) -> None:
    now = datetime(2026, 1, 1, 12, tzinfo=UTC)

    assert parse_since(text, now) == int(expected.timestamp()) * 10**9
