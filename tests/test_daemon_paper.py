"""The paper account lasts across ``perpsbot run --profile dev`` runs in one directory, as a
real account would: positions with their entry, orders, fills and ids. Everything is
observed as a user would: the bot's lines, ``perpsbot account`` and ``perpsbot journal``."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

from perpsbot.sim import StateDirectory
from tests.support.streams import Lines

PERP = "BIP-20DEC30-CDE"
# One perp sampled four times a second on a market that moves only when the test jumps it:
# a jump of a few percent is a cross (wider than 100 bps), nothing else is.
CONFIG = f"""
[market_data]
symbols = ["{PERP}"]
update_interval_s = 0.25
short_ma = 2
long_ma = 4

[strategy]
max_trade_usd = 1000
ma_cross_epsilon_bps = 100
enable_shorts = false

[risk]
volatility_warn = 0.05
volatility_reduce = 0.1
volatility_halt = 0.2

[sim]
tick_interval_s = 0.05
volatility = 0.0

[control]
metrics = false
watch_config = false
"""
_WAIT_S = 60.0  # for a line of the bot's: generous, for a busy machine
_FILLED = re.compile(rf"order pb-\w+ .* {PERP} market \((entry|exit)\): filled (\S+) @ (\S+)")


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "perpsbot", "--log-format", "text", *args]


def _perpsbot(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A one-shot command in ``directory`` (so the dev profile's var/dev is there)."""
    return subprocess.run(
        _command(*args), cwd=directory, capture_output=True, text=True, timeout=60, check=False
    )


class _Run:
    """``perpsbot run --profile dev --config bot.toml`` in a directory, and its output."""

    def __init__(self, directory: Path, *extra: str) -> None:
        self.directory = directory
        self.process = subprocess.Popen(
            _command("run", "--profile", "dev", "--config", "bot.toml", *extra),
            cwd=directory,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.process.stdout is not None
        self.out = Lines(self.process.stdout)

    def jump(self, fraction: float) -> None:
        """Move BTC (and the perp that follows it) by ``fraction`` on the bot's exchange,
        found where it says it answers."""
        endpoint = StateDirectory(self.directory / "var" / "dev" / "sim").endpoint()
        assert endpoint is not None
        control = endpoint["rest_base_url"].removesuffix("/api/v3/brokerage") + "/_sim/faults"
        body = {"fault": "price_jump", "product_id": "BTC-USD", "fraction": fraction}
        assert requests.post(control, json=body, timeout=10).status_code == 200

    def filled(self) -> tuple[str, Decimal, Decimal]:
        """The next order that filled: its purpose, size and average price."""
        line = self.out.until(": filled ", _WAIT_S)
        found = _FILLED.search(line)
        assert found, line
        return found.group(1), Decimal(found.group(2)), Decimal(found.group(3))

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=30)
        self.out.close()
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)
        self.out.close()


def _account(directory: Path) -> dict[str, Any]:
    done = _perpsbot(directory, "account", "--profile", "dev", "--config", "bot.toml", "--json")
    assert done.returncode == 0, done.stderr
    account: dict[str, Any] = json.loads(done.stdout)
    return account


def _position(account: dict[str, Any]) -> tuple[str, Decimal, Decimal]:
    (position,) = account["positions"]
    assert position["product_id"] == PERP
    contracts = Decimal(position["number_of_contracts"])
    return position["side"], contracts, Decimal(position["avg_entry_price"])


@pytest.fixture
def directory(tmp_path: Path) -> Path:
    (tmp_path / "bot.toml").write_text(CONFIG)
    return tmp_path


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_second_dev_run_starts_with_the_first_ones_position_and_the_journal_keeps_both(
    directory: Path,
) -> None:
    first = _Run(directory)
    try:
        first.out.until("trading active", _WAIT_S)
        first.out.until("cycle 6:", _WAIT_S)  # the windows are long enough to see a cross
        first.jump(0.03)
        purpose, size, entry = first.filled()
        assert first.stop() == 0
    finally:
        first.kill()
    assert purpose == "entry"
    # No bot runs: the account as the first run left it.
    resting = _account(directory)
    assert resting["venue"].startswith("paper account var/dev/sim as its last run left it")
    assert _position(resting) == ("LONG", size, entry)

    second = _Run(directory)
    try:
        reconciled = second.out.until("startup reconciliation", _WAIT_S)
        assert reconciled == "startup reconciliation: nothing to correct\n"
        first_line = second.out.until(f"  {PERP} ", _WAIT_S)
        assert re.search(rf"long {size:f} @ {entry:f}\s", first_line), first_line
        running = _account(directory)  # the bot's own exchange, while it runs
        second.out.until("cycle 6:", _WAIT_S)
        second.jump(-0.06)
        exit_purpose, exit_size, exit_price = second.filled()
        assert second.stop() == 0
    finally:
        second.kill()

    assert running["venue"].startswith(
        f"paper account var/dev/sim of the exchange of pid {second.process.pid}: REST"
    )
    assert _position(running) == ("LONG", size, entry)
    assert (exit_purpose, exit_size) == ("exit", size)
    journal = _perpsbot(directory, "journal", "fills", "--config", "bot.toml", "--json")
    assert journal.returncode == 0, journal.stderr
    fills = json.loads(journal.stdout)["fills"]
    assert [(f["purpose"], Decimal(f["price"])) for f in fills] == [
        ("entry", entry),
        ("exit", exit_price),
    ]
    assert len({f["fill_id"] for f in fills}) == 2


def _fills(directory: Path, *journal: str) -> list[dict[str, Any]]:
    done = _perpsbot(directory, "journal", "fills", "--config", "bot.toml", "--json", *journal)
    assert done.returncode == 0, done.stderr
    fills: list[dict[str, Any]] = json.loads(done.stdout)["fills"]
    return fills


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_fresh_paper_sets_the_account_and_its_journal_aside_and_starts_new_ones(
    directory: Path,
) -> None:
    first = _Run(directory)
    try:
        first.out.until("cycle 6:", _WAIT_S)
        first.jump(0.03)
        first.filled()
        assert first.stop() == 0
    finally:
        first.kill()

    again = _Run(directory, "--fresh-paper", "--duration", "2")
    try:
        assert again.process.wait(timeout=60) == 0
    finally:
        again.kill()

    # A new account, and a journal without the old account's position to trade on.
    assert _account(directory)["positions"] == []
    assert _fills(directory) == []
    (archive,) = (directory / "var" / "dev" / "archive").iterdir()
    assert (archive / "sim" / "state.sqlite3").is_file()
    (old,) = _fills(directory, "--journal", str(archive / "journal.sqlite3"))
    assert old["purpose"] == "entry"


@pytest.mark.slow
def test_a_paper_account_that_cannot_be_used_stops_the_start_with_one_line_naming_it(
    directory: Path,
) -> None:
    state = directory / "var" / "dev" / "sim" / "state.sqlite3"
    state.parent.mkdir(parents=True)
    state.write_bytes(b"half a paper account, torn by a disk that filled up" * 20)

    done = _perpsbot(
        directory, "--log-level", "WARNING", "run", "--profile", "dev", "--duration", "5"
    )

    assert done.returncode == 2
    assert done.stderr.count("\n") == 1, done.stderr
    assert f"cannot start: simulated exchange state {Path('var/dev/sim/state.sqlite3')}" in (
        done.stderr
    )
    assert "'perpsbot run --fresh-paper'" in done.stderr
    assert state.read_bytes().startswith(b"half a paper account")  # never replaced
