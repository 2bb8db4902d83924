"""``perpsbot account`` and ``perpsbot order preview`` with ``venue.kind = "global"``
(``global-dev``) read the paper account through its Global Derivatives gateway: the account
summary and positions in USDC, and a preview estimated from the venue's figures (the venue has
none of its own); the running bot's gateway, or the account as the last run left it."""

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
from perpsbot.config import BotConfig, JournalConfig, MarketDataConfig, VenueConfig, VenueKind
from perpsbot.config._profiles import GLOBAL_DEV_SYMBOLS
from perpsbot.messages import OrderType, Side, TimeInForce
from perpsbot.venue.gateway import NewOrder
from tests.support.paper import paper_account

BTC = "BTC_USDC-PERPETUAL"  # the paper account's perp, BIP-20DEC30-CDE, on this venue
PAPER = Path("var/global-dev/sim")

# Process-level: runs perpsbot processes (pytest -m 'not slow' skips it).
pytestmark = pytest.mark.slow


def _perpsbot(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "perpsbot", "--log-level", "WARNING", *args],
        cwd=directory, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def _json(done: subprocess.CompletedProcess[str]) -> Any:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_account_shows_the_global_gateways_summary_and_the_position_the_last_run_left(
    tmp_path: Path,
) -> None:
    paper_account(tmp_path / PAPER, contracts=2)

    account = _json(_perpsbot(tmp_path, "account", "--profile", "global-dev", "--json"))

    assert account["venue"].startswith(
        f"paper account {PAPER} as its last run left it (no exchange runs on it); Global"
        " Derivatives gateway http://127.0.0.1:"
    )
    summary = account["account"]
    assert summary["currency"] == "USDC"
    assert Decimal(summary["initial_margin"]) > 0
    assert Decimal(summary["maintenance_margin"]) > 0
    (position,) = account["positions"]
    assert (position["instrument_name"], position["direction"]) == (BTC, "buy")
    assert Decimal(position["size"]) == Decimal("0.02")  # 2 contracts of 0.01 BTC
    assert Decimal(position["maintenance_margin"]) > 0
    share = Decimal(account["liquidation_buffer_share"])
    margin_balance = Decimal(summary["margin_balance"])
    maintenance = Decimal(summary["maintenance_margin"])
    assert share == (margin_balance - maintenance) / margin_balance


def test_account_prints_the_summary_and_positions_as_tables(tmp_path: Path) -> None:
    paper_account(tmp_path / PAPER, contracts=1)

    done = _perpsbot(tmp_path, "account", "--profile", "global-dev")

    assert done.returncode == 0, done.stderr
    assert "account summary (USDC)" in done.stdout
    assert "maintenance margin" in done.stdout
    assert "liquidation buffer" in done.stdout
    (row,) = [line for line in done.stdout.splitlines() if line.startswith(BTC)]
    assert row.split()[1:3] == ["long", "0.01"]


def test_account_reaches_the_global_gateway_of_the_running_bot(tmp_path: Path) -> None:
    config = BotConfig(
        journal=JournalConfig(path=tmp_path / "var" / "global-dev" / "journal.sqlite3"),
        market_data=MarketDataConfig(symbols=GLOBAL_DEV_SYMBOLS, streaming=False),
        venue=VenueConfig(kind=VenueKind.GLOBAL),
    )
    with contextlib.ExitStack() as stack:
        link = open_venue(config, SystemClock(), stack)  # as the bot opens it
        gateway = link.gateway()
        stack.callback(gateway.close)
        gateway.create_order(
            NewOrder(
                client_order_id="running-1",
                symbol=BTC,
                side=Side.SELL,
                size=Decimal(3),
                order_type=OrderType.MARKET,
                time_in_force=TimeInForce.IOC,
            )
        )

        account = _json(_perpsbot(tmp_path, "account", "--profile", "global-dev", "--json"))

    assert account["venue"].startswith(
        f"paper account {PAPER} of the exchange of pid {os.getpid()}: REST http://127.0.0.1:"
    )
    assert "; Global Derivatives gateway http://127.0.0.1:" in account["venue"]
    (position,) = account["positions"]
    assert (position["instrument_name"], position["direction"]) == (BTC, "sell")
    assert Decimal(position["size"]).copy_abs() == Decimal("0.03")


def test_order_preview_on_the_global_venue_shows_the_request_and_the_estimated_margin(
    tmp_path: Path,
) -> None:
    kept = paper_account(tmp_path / PAPER, steps=50)

    done = _perpsbot(tmp_path, "order", "preview", BTC, "buy", "--size", "2", "--leverage",
                     "2", "--profile", "global-dev", "--json")  # fmt: skip

    preview = _json(done)["preview"]
    request = json.loads(preview["request"])
    assert request["method"] == "private/buy"
    assert request["params"]["instrument_name"] == BTC
    assert request["params"]["contracts"] == "2"
    assert Decimal(preview["expected_fill_price"]) == Decimal(kept["ask"])
    notional = Decimal(2) * Decimal("0.01") * Decimal(kept["ask"])
    assert Decimal(preview["notional"]) == notional.quantize(Decimal("0.01"))
    assert Decimal(preview["initial_margin"]) == (notional / 2).quantize(Decimal("0.01"))
    assert preview["problems"] == []


def test_order_preview_past_the_available_funds_names_the_problem_and_fails(
    tmp_path: Path,
) -> None:
    paper_account(tmp_path / PAPER)

    done = _perpsbot(tmp_path, "order", "preview", BTC, "sell", "--size", "100000",
                     "--leverage", "1", "--profile", "global-dev")  # fmt: skip

    assert done.returncode == 1
    assert "exceeds the available funds" in done.stdout


def test_order_preview_of_an_instrument_the_venue_does_not_list_is_refused_naming_it(
    tmp_path: Path,
) -> None:
    paper_account(tmp_path / PAPER)

    done = _perpsbot(tmp_path, "order", "preview", "BIP-20DEC30-CDE", "buy", "--size", "1",
                     "--profile", "global-dev")  # fmt: skip

    assert done.returncode == 2
    assert "BIP-20DEC30-CDE must be a linear perpetual the venue lists" in done.stderr


def test_order_preview_over_the_instruments_max_leverage_names_the_problem_and_fails(
    tmp_path: Path,
) -> None:
    paper_account(tmp_path / PAPER)

    done = _perpsbot(tmp_path, "order", "preview", BTC, "buy", "--size", "1", "--leverage",
                     "50", "--profile", "global-dev", "--json")  # fmt: skip

    assert done.returncode == 1
    (problem,) = json.loads(done.stdout)["preview"]["problems"]
    assert problem == "leverage 50 exceeds the instrument's max_leverage 3"
