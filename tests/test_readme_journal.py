"""The README's commands for reading the journal are run against the journal of a real short
trading session (the bot tree on a loopback exchange), so they cannot rot."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from perpsbot.clock import FakeClock, SystemClock
from perpsbot.messages import OrderFilled, OrderUpdated, Side
from tests.bot.trading_tree import SYMBOL, trading_tree

# The README's commands, run as a user would: perpsbot processes (pytest -m 'not slow' skips it).
pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parents[1] / "README.md"
PERPSBOT = f"{shlex.quote(sys.executable)} -m perpsbot"
#: Where the dev profile keeps its journal, relative to the directory the bot runs in.
DEV_JOURNAL = Path("var/dev/journal.sqlite3")
TITLES = {
    "trades": "Trades (intent -> order -> fills)",
    "fills": "Fills",
    "pnl": "PnL in USD (realized by average cost; net = realized - fees + funding)",
    "states": "Trading state changes",
}


def _commands() -> list[str]:
    text = README.read_text()
    match = re.search(r"<!-- readme-commands: journal -->\n```sh\n(.*?)```", text, re.DOTALL)
    assert match, "README has no commands marked 'journal'"
    return match.group(1).strip().splitlines()


def _sample() -> list[str]:
    """The README's sample of what ``perpsbot journal`` shows after a session."""
    text = README.read_text()
    match = re.search(r"`perpsbot journal` shows what it traded:\n\n```\n(.*?)```", text, re.DOTALL)
    assert match, "README has no sample output of perpsbot journal"
    return match.group(1).splitlines()


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory where the dev profile's journal holds a session of today: a bullish cross
    bought, and the trailing stop's sale after a fall."""
    here = tmp_path_factory.mktemp("session")
    clock = FakeClock(wall_start_ns=SystemClock().time_ns())  # today: `--since 24h` sees it
    with trading_tree(here / DEV_JOURNAL, clock=clock) as bot:
        bot.active()
        for _ in range(5):  # the windows fill with a flat price
            bot.sample()
        bot.move(0.05)  # a bullish cross
        bot.sample()
        bot.wait(OrderFilled, lambda f: f.side is Side.BUY, "the entry's fill")
        bot.move(0.005)
        bot.sample()
        bot.move(-0.015)  # through the 1% trailing stop
        bot.sample()
        bot.wait(OrderFilled, lambda f: f.side is Side.SELL, "the exit's fill")
        # Filled once the portfolio booked the fill: the journal's trades show it so.
        bot.wait(OrderUpdated, lambda u: u.side is Side.SELL and u.settled, "the exit filled")
    return here


@pytest.fixture(scope="module")
def printed(session: Path) -> dict[str, str]:
    """Each README command, run in the session's directory: what it printed, by its words
    before the comment (FILE is the session's journal)."""
    out = {}
    for line in _commands():
        command = line.split("#")[0].strip()
        done = subprocess.run(
            command.replace("perpsbot ", f"{PERPSBOT} ", 1).replace(
                "FILE", shlex.quote(str(session / DEV_JOURNAL))
            ),
            shell=True,
            cwd=session,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, (line, done.stderr)
        out[command] = done.stdout
    return out


def _tables(output: str) -> dict[str, list[str]]:
    """The tables of ``perpsbot journal``'s output by view: their lines under the title."""
    tables: dict[str, list[str]] = {}
    for block in output.split("\n\n")[1:]:
        title, *lines = block.strip("\n").splitlines()
        (view,) = [v for v, t in TITLES.items() if t == title]
        tables[view] = lines
    return tables


def test_the_readme_lists_the_four_journal_commands(printed: dict[str, str]) -> None:
    assert list(printed) == [
        "perpsbot journal",
        "perpsbot journal pnl --since 24h",
        "perpsbot journal fills --symbol BTC-USD --since 2026-03-01",
        "perpsbot journal --journal FILE --json",
    ]


def test_journal_prints_trades_fills_pnl_and_state_changes_of_the_dev_profile(
    printed: dict[str, str],
) -> None:
    output = printed["perpsbot journal"]
    assert output.startswith(f"journal {DEV_JOURNAL}\n")
    tables = _tables(output)
    assert list(tables) == ["trades", "fills", "pnl", "states"]
    header, _, entry, exit_ = tables["trades"]
    # time (UTC), intent, symbol, side, purpose, size, status, ...
    assert entry.split()[3:6] + entry.split()[7:8] == [SYMBOL, "BUY", "entry", "filled"]
    assert exit_.split()[3:6] + exit_.split()[7:8] == [SYMBOL, "SELL", "exit", "filled"]
    assert "stop" in exit_
    # The README's sample shows the same layout.
    sample = _sample()
    assert sample[: sample.index(TITLES["trades"]) + 1] == [
        f"journal {DEV_JOURNAL}",
        "",
        TITLES["trades"],
    ]
    assert sample[sample.index(TITLES["trades"]) + 1].split() == header.split()
    assert len(tables["fills"]) == 4
    assert "active" in [line.split()[3] for line in tables["states"][2:]]  # time, from, to


def test_journal_pnl_since_24h_prints_realized_pnl_fees_and_funding_by_symbol(
    printed: dict[str, str],
) -> None:
    output = printed["perpsbot journal pnl --since 24h"]
    assert re.match(r"journal \S+ \(since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\)\n", output)
    tables = _tables(output)
    assert list(tables) == ["pnl"]
    header, _, symbol, total = tables["pnl"]
    assert header.split() == ["symbol", "fills", "realized", "fees", "funding", "net"]
    assert symbol.split()[:2] == [SYMBOL, "2"]  # the entry's and the exit's fill
    assert total.split()[1] == "2"


def test_journal_fills_prints_one_symbols_fills_since_a_date(printed: dict[str, str]) -> None:
    output = printed["perpsbot journal fills --symbol BTC-USD --since 2026-03-01"]
    assert output.startswith(f"journal {DEV_JOURNAL} (since 2026-03-01 00:00:00 UTC, {SYMBOL})")
    tables = _tables(output)
    assert list(tables) == ["fills"]
    _, _, buy, sell = tables["fills"]
    assert (buy.split()[2:4], sell.split()[2:4]) == ([SYMBOL, "BUY"], [SYMBOL, "SELL"])


def test_journal_json_gives_scripts_the_same_records(
    printed: dict[str, str], session: Path
) -> None:
    document = json.loads(printed["perpsbot journal --journal FILE --json"])
    assert document["journal"] == str(session / DEV_JOURNAL)
    assert [t["purpose"] for t in document["trades"]] == ["entry", "exit"]
    assert [f["side"] for f in document["fills"]] == ["BUY", "SELL"]
    assert document["pnl"][0]["symbol"] == SYMBOL
    assert document["states"]
    tables = _tables(printed["perpsbot journal"])
    assert len(document["pnl"]) == len(tables["pnl"]) - 2  # the same records as the text
