from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from perpsbot.actors import _journal_writer
from perpsbot.backtest import run_backtest
from perpsbot.config import BotConfig
from perpsbot.data import CandleStore
from perpsbot.errors import BacktestError
from perpsbot.journal import JournalReader, open_for_writing
from perpsbot.messages import Side
from perpsbot.sim import CATALOGUE
from tests.backtest.conftest import SPAN, SYMBOLS

#: The journal's own sequence numbers say how it interleaved writes of different actors that
#: arrived at one instant; every fact in the rows is compared, these are left out.
_JOURNAL_ORDER = {"seq", "last_seq"}
_TRADING_TABLES = ("intents", "order_transitions", "orders", "fills", "positions", "denials")


def _rows(journal: Path) -> dict[str, list[tuple[Any, ...]]]:
    tables: dict[str, list[tuple[Any, ...]]] = {}
    with contextlib.closing(sqlite3.connect(f"file:{journal}?mode=ro", uri=True)) as db:
        for table in _TRADING_TABLES:
            columns = [row[1] for row in db.execute(f"PRAGMA table_info({table})")]
            kept = [c for c in columns if c not in _JOURNAL_ORDER]
            order = "seq" if "seq" in columns else "last_seq"
            sql = f"SELECT {', '.join(kept)} FROM {table} ORDER BY {order}"
            tables[table] = db.execute(sql).fetchall()
    return tables


def _run(
    store_path: Path, journal: Path, config: Callable[[Path], BotConfig], *, seed: int = 1
) -> None:
    with CandleStore(store_path) as store:
        run_backtest(config(journal), store=store, journal=journal, span=SPAN, seed=seed)


def test_a_backtest_trades_through_the_bots_tree_into_an_ordinary_journal(
    candle_store: Path, dev_config: Callable[[Path], BotConfig], tmp_path: Path
) -> None:
    journal = tmp_path / "backtest.sqlite3"
    with CandleStore(candle_store) as store:
        result = run_backtest(dev_config(journal), store=store, journal=journal, span=SPAN, seed=1)

    assert result.bars == 2 * 90
    assert result.starting_equity > 0
    assert [len(result.marks[s]) for s in SYMBOLS] == [90, 90]
    assert result.marks[SYMBOLS[0]][0][0].timestamp() == SPAN[0] + 60
    with JournalReader(journal) as reader:
        fills = reader.fills()
        trades = reader.trades()
    assert fills, "the dev strategy trades on ninety minutes of bars"
    assert {fill.symbol for fill in fills} <= set(SYMBOLS)
    assert all(SPAN[0] * 10**9 <= fill.ts_event_ns < SPAN[1] * 10**9 for fill in fills)
    assert trades


def test_the_same_data_config_and_seed_give_the_same_intents_orders_and_fills(
    candle_store: Path, dev_config: Callable[[Path], BotConfig], tmp_path: Path
) -> None:
    first, second = tmp_path / "first.sqlite3", tmp_path / "second.sqlite3"
    _run(candle_store, first, dev_config)
    _run(candle_store, second, dev_config)

    rows = _rows(first)
    assert rows["fills"]
    assert rows["intents"]
    assert rows == _rows(second)


def test_a_backtests_journal_is_committed_without_syncing_to_disk(
    candle_store: Path,
    dev_config: Callable[[Path], BotConfig],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A crash means a rerun (docs/backtest.md), so no commit waits for the disk."""
    asked: list[str] = []

    def spy(path: Path, *, synchronous: str, busy_timeout_s: float) -> sqlite3.Connection:
        asked.append(synchronous)
        return open_for_writing(path, synchronous=synchronous, busy_timeout_s=busy_timeout_s)

    monkeypatch.setattr(_journal_writer, "open_for_writing", spy)
    _run(candle_store, tmp_path / "backtest.sqlite3", dev_config)

    assert asked == ["off"]


def test_a_backtest_of_a_symbol_the_store_lacks_names_what_it_holds(
    candle_store: Path, dev_config: Callable[[Path], BotConfig], tmp_path: Path
) -> None:
    journal = tmp_path / "backtest.sqlite3"
    config = dev_config(journal)
    with CandleStore(candle_store) as store, pytest.raises(BacktestError) as raised:
        run_backtest(config, store=store, journal=journal, granularity="FIVE_MINUTE", span=SPAN)

    assert str(raised.value) == (
        "the candle store must hold FIVE_MINUTE candles of BIP-20DEC30-CDE, ETP-20DEC30-CDE"
        " in the span asked; it holds BIP-20DEC30-CDE ONE_MINUTE (90),"
        " ETP-20DEC30-CDE ONE_MINUTE (90) (perpsbot data download --symbols ... fills it)"
    )


def test_a_market_order_fills_at_most_a_level_spacing_from_the_close_on_its_side(
    candle_store: Path, dev_config: Callable[[Path], BotConfig], tmp_path: Path
) -> None:
    journal = tmp_path / "backtest.sqlite3"
    _run(candle_store, journal, dev_config)
    spacing = {p.product_id: p.level_spacing for p in CATALOGUE}
    with CandleStore(candle_store) as store:
        closes = {
            s: [(c.start_s + 30, c.close) for c in store.candles(s, "ONE_MINUTE", SPAN)]
            for s in SYMBOLS
        }
    with JournalReader(journal) as reader:
        fills = reader.fills()

    assert fills
    for fill in fills:
        # The close held at the fill's time: the last one reached (half a bar in) by then.
        close = [c for at_s, c in closes[fill.symbol] if at_s * 10**9 <= fill.ts_event_ns][-1]
        away = fill.price - close if fill.side is Side.BUY else close - fill.price
        assert 0 <= away <= spacing[fill.symbol], (fill, close)
