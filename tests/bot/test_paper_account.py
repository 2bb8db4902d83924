"""``perpsbot account`` and ``perpsbot order preview`` in ``dev`` read the bot's paper account
beside the journal: its running exchange, or the account as the last run left it; never a
new exchange."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from perpsbot.bot import open_venue
from perpsbot.clock import SystemClock
from perpsbot.config import BotConfig, JournalConfig
from perpsbot.venue.orders import MarketIoc, OrderRequest, OrderSide
from tests.support.paper import PERP, paper_account

pytestmark = pytest.mark.slow  # each test runs the perpsbot command as a process


def _perpsbot(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "perpsbot", "--log-level", "WARNING", *args],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _json(done: subprocess.CompletedProcess[str]) -> Any:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _files(directory: Path) -> dict[str, int]:
    return {str(p): p.stat().st_mtime_ns for p in directory.rglob("*")}


def test_account_with_no_paper_account_yet_says_how_to_open_one_and_makes_nothing(
    tmp_path: Path,
) -> None:
    done = _perpsbot(tmp_path, "account", "--profile", "dev")

    assert done.returncode == 1
    assert done.stderr == (
        "perpsbot account: there is no paper account at var/dev/sim yet: 'perpsbot run' with"
        " this configuration opens it\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_account_shows_the_position_the_last_run_left_and_reading_it_writes_nothing(
    tmp_path: Path,
) -> None:
    paper_account(tmp_path / "var" / "dev" / "sim", contracts=2)
    before = _files(tmp_path)

    account = _json(_perpsbot(tmp_path, "account", "--profile", "dev", "--json"))

    assert account["venue"] == (
        "paper account var/dev/sim as its last run left it (no exchange runs on it)"
    )
    (position,) = account["positions"]
    assert (position["product_id"], position["side"]) == (PERP, "LONG")
    assert position["number_of_contracts"] == "2"
    assert _files(tmp_path) == before


def test_order_preview_prices_on_the_market_the_paper_account_kept(tmp_path: Path) -> None:
    kept = paper_account(tmp_path / "var" / "dev" / "sim", steps=400)

    done = _perpsbot(tmp_path, "order", "preview", PERP, "buy", "--size", "1", "--json")

    preview = _json(done)["preview"]
    assert (preview["best_bid"], preview["best_ask"]) == (kept["bid"], kept["ask"])
    assert Decimal(preview["est_average_filled_price"]) == Decimal(kept["ask"])


def test_account_reaches_the_exchange_of_the_running_bot_with_the_accounts_key(
    tmp_path: Path,
) -> None:
    journal = tmp_path / "var" / "dev" / "journal.sqlite3"
    config = BotConfig(journal=JournalConfig(path=journal))
    with contextlib.ExitStack() as stack:
        link = open_venue(config, SystemClock(), stack)  # as the bot opens it
        client = link.rest_client()
        stack.callback(client.close)
        order = OrderRequest(
            client_order_id="running-1",
            product_id=PERP,
            side=OrderSide.BUY,
            configuration=MarketIoc(base_size=Decimal(3)),
        )
        client.create_order(order)

        account = _json(_perpsbot(tmp_path, "account", "--profile", "dev", "--json"))

    assert account["venue"].startswith(
        f"paper account var/dev/sim of the exchange of pid {os.getpid()}: REST http://127.0.0.1:"
    )
    (position,) = account["positions"]
    assert (position["product_id"], position["number_of_contracts"]) == (PERP, "3")
