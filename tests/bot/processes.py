"""A ``perpsbot sim`` and ``perpsbot run`` processes pointed at it, for tests that kill the bot.

Everything is observed from outside, as an operator would: the bot's printed lines and logs,
its journal file (read-only, through ``JournalReader``), and the exchange's REST API and
``/_sim`` control endpoints. The exchange ticks on its own; its random walk moves a few
basis points between samples, while the bot's strategy needs a cross wider than a percent,
so only the price jumps a test scripts ever trade.
"""

from __future__ import annotations

import contextlib
import json
import re
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import requests

from perpsbot.clock import SystemClock
from perpsbot.ids import client_order_id, is_our_client_order_id
from perpsbot.journal import JournalReader
from perpsbot.messages import OrderStatus
from perpsbot.runtime.testing import eventually
from perpsbot.venue import JwtSigner, RestClient, VenueRateLimiter
from perpsbot.venue.records import OrderRecord
from tests.support.keys import make_credentials
from tests.support.streams import Lines

SPOT = "BTC-USD"
PERP = "BIP-20DEC30-CDE"
_ALLOWED = re.compile(r"(\S+) allowed: ")
#: Venue statuses of an order the journal says ended this way.
_VENUE_STATUS = {OrderStatus.FILLED: "FILLED", OrderStatus.CANCELLED: "CANCELLED"}


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "perpsbot", "--log-level", "INFO", "--log-format", "text", *args]


class SimProcess:
    """``perpsbot sim`` on free ports, its REST API (lenient auth) and its control endpoints."""

    def __init__(self, *, seed: int = 5) -> None:
        self.process = subprocess.Popen(
            _command("sim", "--seed", str(seed), "--tick-interval-s", "0.05"),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.process.stdout is not None
        self._out = Lines(self.process.stdout)
        self.rest_url = self._out.until("rest:").split()[1]
        self.market_ws_url = self._out.until("market ws:").split()[2]
        self.user_ws_url = self._out.until("user ws:").split()[2]
        self.control_url = self._out.until("control:").split()[1].removesuffix("/faults")
        clock = SystemClock()
        self.rest = RestClient(
            base_url=self.rest_url,
            signer=JwtSigner(make_credentials()[0], clock=clock),  # any key: lenient auth
            limiter=VenueRateLimiter(clock=clock),
        )

    def fault(self, fault: str, **arguments: Any) -> None:
        answer = requests.post(
            f"{self.control_url}/faults", json={"fault": fault, **arguments}, timeout=10
        )
        assert answer.status_code == 200, answer.text

    def clear_faults(self) -> None:
        assert requests.delete(f"{self.control_url}/faults", timeout=10).status_code == 200

    def jump(self, fraction: float) -> None:
        """Move BTC's price by ``fraction`` at the next step (the perp follows the spot)."""
        self.fault("price_jump", product_id=SPOT, fraction=fraction)

    def our_orders(self) -> list[OrderRecord]:
        return [o for o in self.rest.list_orders() if is_our_client_order_id(o.client_order_id)]

    def stop(self) -> None:
        self.rest.close()
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)
        self._out.close()


def bot_toml(
    sim: SimProcess, journal: Path, *, symbols: Sequence[str] = (SPOT,), **sections: str
) -> str:
    """A paper bot on ``sim``: ``symbols`` sampled four times a second, entries of 1,000 USD
    on a cross wider than 100 bps; no user channel (orders are followed by polls of the REST
    API) and no periodic REST work, so the only REST calls are the ones the order path makes.

    ``sections`` maps a section to lines ``key = value`` that replace or add to its keys."""
    listed = ", ".join(f'"{s}"' for s in symbols)
    base = {
        "venue": f'kind = "sim"\nrest_base_url = "{sim.rest_url}"\n'
        f'market_ws_url = "{sim.market_ws_url}"',
        "market_data": f"symbols = [{listed}]\nupdate_interval_s = 0.25\n"
        "poll_interval_s = 1.0\nstale_after_s = 5.0\nshort_ma = 2\nlong_ma = 4",
        "strategy": "max_trade_usd = 1000\nma_cross_epsilon_bps = 100",
        # The scripted jumps are no market turmoil: the volatility breaker is not the subject.
        "risk": "volatility_warn = 0.05\nvolatility_reduce = 0.1\nvolatility_halt = 0.2",
        "execution": "reconcile_interval_s = 3600.0\nproduct_refresh_s = 3600.0",
        "journal": f'path = "{journal}"',
        "control": "metrics = false\nwatch_config = false",
    }
    keyed = {name: dict(_keys(body)) for name, body in base.items()}
    for name, extra in sections.items():
        keyed.setdefault(name, {}).update(_keys(extra))
    return "\n".join(
        f"[{name}]\n" + "".join(f"{key} = {value}\n" for key, value in keys.items())
        for name, keys in keyed.items()
    )


def _keys(body: str) -> Iterator[tuple[str, str]]:
    for line in body.splitlines():
        if line.strip():
            key, value = line.split("=", 1)
            yield key.strip(), value.strip()


class BotProcess:
    """``perpsbot run --config FILE`` with its stdout (the reporter) and stderr (the logs);
    with ``log``, both are also copied to ``log`` + ``.out`` and ``.err``."""

    def __init__(self, config: Path, *extra: str, log: Path | None = None) -> None:
        self.process = subprocess.Popen(
            _command("run", "--config", str(config), *extra),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        assert self.process.stderr is not None
        copies = (None, None) if log is None else (_opened(log, ".out"), _opened(log, ".err"))
        self.out = Lines(self.process.stdout, copy=copies[0])
        self.err = Lines(self.process.stderr, copy=copies[1])

    def ready(self) -> None:
        """Wait until it trades (reconciled with the venue, fresh marks) and its windows are
        long enough to see a cross."""
        self.out.until("trading active")
        self.cycles(6)

    def cycles(self, n: int) -> None:
        """Wait for ``n`` more sampling cycles to be printed."""
        for _ in range(n):
            self.out.until("cycle ")

    def allowed(self, timeout_s: float = 20.0) -> str:
        """The id of the next intent risk allows (from risk's log line)."""
        line = self.err.until(" allowed: ", timeout_s)
        found = _ALLOWED.search(line)
        assert found, line
        return found.group(1)

    def kill(self) -> None:
        """``kill -9``: nothing of the bot runs after this, not even its journal's close."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self.out.close()
        self.err.close()

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=30)
        self.out.close()
        self.err.close()
        return code


def _opened(log: Path, suffix: str) -> IO[str]:
    return log.with_name(log.name + suffix).open("w", encoding="utf-8", buffering=1)


def shell(config: Path, expression: str) -> str:
    """``perpsbot shell -c EXPRESSION`` on the bot that runs with ``config``; its output."""
    done = subprocess.run(
        _command("shell", "--config", str(config), "-c", expression),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def status(config: Path) -> dict[str, Any]:
    """``perpsbot status --json`` of the bot that runs with ``config`` (ready or not)."""
    done = subprocess.run(
        _command("status", "--config", str(config), "--json"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr  # 1: answered, not ready
    document: dict[str, Any] = json.loads(done.stdout)
    return document


@contextlib.contextmanager
def running_bot(config: Path, *extra: str) -> Iterator[BotProcess]:
    bot = BotProcess(config, *extra)
    try:
        yield bot
    finally:
        if bot.process.poll() is None:
            bot.stop()


@contextlib.contextmanager
def running_sim() -> Iterator[SimProcess]:
    sim = SimProcess()
    try:
        yield sim
    finally:
        sim.stop()


@contextlib.contextmanager
def write_lock(journal: Path) -> Iterator[None]:
    """Hold the journal file's write lock from another connection (another process could:
    a backup, an operator's sqlite3): the bot's journal cannot commit until it ends."""
    db = sqlite3.connect(journal, isolation_level=None, timeout=10)
    try:
        db.execute("BEGIN IMMEDIATE")
        yield
        db.execute("ROLLBACK")
    finally:
        db.close()


def journaled_status(journal: Path, intent_id: str) -> OrderStatus | None:
    """The last status the journal holds for the intent's order (None: none, or no intent)."""
    with JournalReader(journal) as reader:
        order = reader.order(client_order_id(intent_id))
        return None if order is None else order.status


def wait_journaled(journal: Path, intent_id: str, status: OrderStatus) -> None:
    eventually(
        lambda: journaled_status(journal, intent_id) is status,
        timeout_s=20,
        what=f"the journal to hold {intent_id} as {status}",
    )


def wait_settled(journal: Path) -> None:
    """Wait until the journal holds no unfinished intent."""

    def settled() -> bool:
        with JournalReader(journal) as reader:
            return reader.unfinished_intents() == []

    eventually(settled, timeout_s=20, what="the journal's intents to be settled")


def assert_one_order_per_intent(journal: Path, sim: SimProcess) -> dict[str, OrderRecord]:
    """The venue holds exactly one order per journaled intent that was sent (none for one
    settled unsent), each as the journal last recorded it, and no order of ours the journal
    lacks. Returns the venue's orders by client order id."""
    venue = sim.our_orders()
    counts = Counter(o.client_order_id for o in venue)
    assert all(n == 1 for n in counts.values()), f"an order placed twice: {counts}"
    by_coid = {o.client_order_id: o for o in venue}
    with JournalReader(journal) as reader:
        assert reader.unfinished_intents() == [], "reconciliation left intents unfinished"
        trades = reader.trades()
    journaled = {t.client_order_id for t in trades}
    assert set(by_coid) <= journaled, f"venue orders the journal lacks: {set(by_coid) - journaled}"
    for trade in trades:
        assert trade.order is not None, f"{trade.client_order_id} has no journaled state"
        status = trade.order.status
        if status is OrderStatus.EXPIRED and trade.client_order_id not in by_coid:
            continue  # settled unsent past its TTL: never placed
        order = by_coid.get(trade.client_order_id)
        assert order is not None, f"{trade.client_order_id} is {status} but not at the venue"
        assert order.status == _VENUE_STATUS.get(status, order.status), (status, order.status)
        assert trade.filled_size == order.filled_size, (trade, order)
    return by_coid
