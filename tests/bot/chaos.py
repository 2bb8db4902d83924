"""Chaos: ``kill -9`` of ``perpsbot run`` at random points and just after risk allows an
order, against a separately started ``perpsbot sim`` with venue faults; then the venue's
own history is checked against the journal.

Run it from the repository root (the ``perpsbot`` package importable)::

    python -m tests.bot.chaos --kills 200 --faults            # about 15 minutes
    python -m tests.bot.chaos --kills 20 --seed 7 --keep /tmp/chaos   # keep every bot's logs

One ``perpsbot sim`` runs for the whole run; ``perpsbot run`` is started on one journal again
and again, and each time killed with SIGKILL:

- a *timed* kill waits for risk's ``<intent> allowed:`` log line (of the 1st to
  ``--timed-orders``-th order since the start) and kills 0 to ``--timed-max-ms`` ms
  later: anywhere between the order's write-ahead, its request to the venue, the venue's
  answer and its journaling;
- a *random* kill lands 0 to ``--random-max-s`` seconds after the bot printed its banner
  (its imports done): in start-up, the start-up reconciliation or trading.

Meanwhile BTC's price jumps up, up, down, down (5 % each, back to where it was) every
``--period-s`` seconds, the BIP perpetual-style future following it, so the strategy (short
moving averages, shorts disabled) enters and exits both symbols every few seconds. With
``--faults`` each start arms one venue fault, and more follow every 1 to 4 seconds: 5xx and 429
answers on ``/orders``, lost order acknowledgements, the fills endpoint failing, order
visibility delayed (orders created then are hidden from every read for up to 3 s), slow
answers, answers cut mid-body, a reused client order id rejected instead of answered.

After the last kill the faults are cleared, the price left alone, and the bot started once
more; once it has settled every journaled intent and completed a reconciliation it is
stopped and the invariants are checked (see ``tests/bot/chaos_checks.py``): no duplicate
orders, no order of ours the journal lacks, no entry placed while the venue held a position,
no exit past the position (the owner's spot coins untouched, no short nobody chose), no
venue fill missing from the journal, and the journal's positions equal to the venue's.

It prints the kills (how many landed before the intent's journal write, before the venue took
the order, or after), the orders and fills at the venue, and each invariant's violations;
the exit code is 1 if any invariant was violated or the last start failed.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import attrs

from perpsbot.ids import client_order_id
from perpsbot.journal import JournalReader
from perpsbot.messages import ReconciliationCompleted
from perpsbot.runtime.testing import eventually
from tests.bot.chaos_checks import Figures, JournalFacts, VenueHistory, check
from tests.bot.chaos_venue import Faults, Prices, Repeating
from tests.bot.processes import PERP, SPOT, BotProcess, SimProcess, bot_toml

_ALLOWED = re.compile(r"(\S+ \S+) INFO perpsbot\.actors\.risk: (\S+) allowed: ")


@attrs.frozen(kw_only=True)
class Settings:
    kills: int
    seed: int = 1
    timed_share: float = 0.5
    """The share of timed kills, each kill drawn at random..."""
    kinds: tuple[bool, ...] | None = None
    """... unless given here: True for a timed kill, one per kill."""
    timed_max_ms: float = 40.0
    timed_orders: int = 1
    """A timed kill follows the 1st to ``timed_orders``-th order allowed after the start."""
    random_max_s: float = 6.0
    period_s: float = 1.0
    faults: bool = True
    fault_interval_s: tuple[float, float] | None = (1.0, 4.0)
    """Seconds between background faults, or None for one fault per start only."""
    user_channel: bool = False
    wait_s: float = 60.0
    """How long to wait for the bot to trade, or for an order to be allowed."""


@attrs.frozen(kw_only=True)
class Kill:
    index: int
    timed: bool
    after_s: float
    """Timed: seconds after the ``allowed`` line was read; random: after the banner."""
    after_log_ms: float | None = None
    """Timed: milliseconds from the ``allowed`` line's time stamp to the kill (the stamp has
    millisecond resolution)."""
    intent_id: str | None = None
    journaled: str | None = None
    """Timed: the intent's journaled order state right after the kill (``none``: no intent)."""
    at_ns: int = 0
    fault: str = ""


@attrs.frozen(kw_only=True)
class Report:
    kills: tuple[Kill, ...]
    figures: Figures
    timed_without_order: int
    """Timed kills that saw no allowed order within ``wait_s`` (killed anyway)."""
    kill_points: dict[str, int]
    faults: dict[str, int]
    seconds: float

    @property
    def ok(self) -> bool:
        return not self.figures.violations

    def lines(self) -> list[str]:
        timed = sum(1 for k in self.kills if k.timed)
        lags = sorted(k.after_log_ms for k in self.kills if k.after_log_ms is not None)
        lag = (
            f"; killed {lags[len(lags) // 2]:.0f} ms (median), {lags[-1]:.0f} ms (max) after"
            " the allowed line's time stamp"
            if lags
            else ""
        )
        points = ", ".join(f"{n} {p}" for p, n in sorted(self.kill_points.items()))
        faults = ", ".join(f"{n} {f}" for f, n in sorted(self.faults.items())) or "none"
        return [
            f"kills: {len(self.kills)} ({timed} timed after an allowed order, "
            f"{len(self.kills) - timed} random) in {self.seconds:.0f} s",
            f"  timed kills landed: {points or 'nowhere'}"
            + (f"; {self.timed_without_order} saw no order" if self.timed_without_order else "")
            + lag,
            f"faults armed: {faults}",
            *self.figures.lines(),
        ]


def chaos_toml(sim: SimProcess, journal: Path, *, user_channel: bool) -> str:
    """The bot of a chaos run: spot BTC and the BIP future, shorts disabled, limits that leave
    the scripted jumps tradeable, and a reconciliation every 3 s."""
    venue = f'user_ws_url = "{sim.user_ws_url}"' if user_channel else ""
    return bot_toml(
        sim,
        journal,
        symbols=(SPOT, PERP),
        venue=venue,
        strategy="enable_shorts = false",
        risk="volatility_warn = 0.5\nvolatility_reduce = 0.8\nvolatility_halt = 0.9\n"
        "daily_loss_limit_usd = 1000000\nmax_orders_per_minute = 10000\n"
        "max_position_usd = 2000",
        execution="reconcile_interval_s = 3.0",
    )


def _journaled(journal: Path, intent_id: str) -> str:
    with JournalReader(journal) as reader:
        recorded = reader.intent(intent_id)
    if recorded is None:
        return "none"
    return "pending_submit" if recorded.order is None else str(recorded.order.status)


def _kill_now(bot: BotProcess) -> None:
    bot.process.send_signal(signal.SIGKILL)


def _lives_for(bot: BotProcess, seconds: float) -> None:
    """Let the bot run ``seconds`` (the kill point is the test's choice, nothing to wait for);
    raises if it exits by itself meanwhile."""
    try:
        code = bot.process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        return
    raise AssertionError(f"perpsbot run exited by itself with {code}: {bot.err.seen[-20:]}")


class ChaosRun:
    """One run: a sim, the bot killed ``settings.kills`` times, a last start, the checks."""

    def __init__(self, settings: Settings, workdir: Path, say: Callable[[str], None]) -> None:
        self.settings = settings
        self.workdir = workdir
        self.journal = workdir / "var" / "journal.sqlite3"
        self.config = workdir / "bot.toml"
        self.logs = workdir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self._say = say
        self._rng = random.Random(settings.seed)
        self._timed_without_order = 0

    def run(self) -> Report:
        started = time.monotonic()
        sim = SimProcess(seed=self.settings.seed)
        try:
            self.config.write_text(
                chaos_toml(sim, self.journal, user_channel=self.settings.user_channel)
            )
            faults = Faults(sim, random.Random(self.settings.seed + 1))
            kills = self._kill_many(sim, faults)
            sim.clear_faults()
            self._last_start()
            figures = check(VenueHistory.read(sim.rest), JournalFacts.read(self.journal))
            points = self._kill_points(sim, kills)
        finally:
            sim.stop()
        return Report(
            kills=tuple(kills),
            figures=figures,
            timed_without_order=self._timed_without_order,
            kill_points=points,
            faults=dict(faults.armed),
            seconds=time.monotonic() - started,
        )

    def _kill_many(self, sim: SimProcess, faults: Faults) -> list[Kill]:
        settings = self.settings
        prices = Prices(sim)
        interval = settings.fault_interval_s if settings.faults else None
        pauses = random.Random(settings.seed + 2)  # drawn on the background's thread
        kills: list[Kill] = []
        with contextlib.ExitStack() as running:
            running.enter_context(Repeating(prices.step, lambda: settings.period_s))
            if interval is not None:
                running.enter_context(Repeating(faults.step, lambda: pauses.uniform(*interval)))
            for index in range(settings.kills):
                kills.append(self._one(index, faults))
                if (index + 1) % 10 == 0 or index + 1 == settings.kills:
                    self._say(f"{index + 1} kills, {time.strftime('%H:%M:%S')}")
        return kills

    def _one(self, index: int, faults: Faults) -> Kill:
        kinds = self.settings.kinds
        timed = kinds[index] if kinds else self._rng.random() < self.settings.timed_share
        bot = BotProcess(self.config, log=self.logs / f"bot-{index:04d}")
        fault = faults.step() if self.settings.faults else ""
        try:
            if timed:
                return self._timed(index, bot, fault)
            after_s = self._rng.uniform(0, self.settings.random_max_s)
            bot.out.until("perpsbot ", timeout_s=self.settings.wait_s)  # the banner
            _lives_for(bot, after_s)
            _kill_now(bot)
            return Kill(
                index=index, timed=False, after_s=after_s, at_ns=time.time_ns(), fault=fault
            )
        finally:
            _kill_now(bot)  # whatever happened above, this bot is done
            bot.process.wait(timeout=30)
            bot.out.close()
            bot.err.close()

    def _timed(self, index: int, bot: BotProcess, fault: str) -> Kill:
        delay_s = self._rng.uniform(0, self.settings.timed_max_ms) / 1000
        try:
            for _ in range(self._rng.randint(1, self.settings.timed_orders)):
                line = bot.err.until(" allowed: ", timeout_s=self.settings.wait_s)
        except AssertionError:
            if bot.process.poll() is not None:
                raise
            self._timed_without_order += 1
            self._say(f"kill {index}: no order allowed within {self.settings.wait_s} s")
            return Kill(index=index, timed=True, after_s=0.0, at_ns=time.time_ns(), fault=fault)
        if delay_s:
            _lives_for(bot, delay_s)
        _kill_now(bot)
        at_ns = time.time_ns()
        bot.process.wait(timeout=30)
        found = _ALLOWED.match(line)
        assert found, line
        logged_ns = int(datetime.strptime(found[1], "%Y-%m-%d %H:%M:%S,%f").timestamp() * 1e9)
        return Kill(
            index=index,
            timed=True,
            after_s=delay_s,
            after_log_ms=(at_ns - logged_ns) / 1e6,
            intent_id=found[2],
            journaled=_journaled(self.journal, found[2]),
            at_ns=at_ns,
            fault=fault,
        )

    def _last_start(self) -> None:
        """Start the bot on a quiet venue; stop it once it settled everything and reconciled."""
        wait_s = self.settings.wait_s
        bot = BotProcess(self.config, log=self.logs / "bot-last")
        try:
            bot.out.until("trading active", timeout_s=wait_s)

            def settled() -> bool:
                with JournalReader(self.journal) as reader:
                    return reader.unfinished_intents() == []

            eventually(settled, timeout_s=wait_s, what="every journaled intent settled")
            since_ns = time.time_ns()

            def reconciled() -> bool:
                with JournalReader(self.journal) as reader:
                    passes = reader.reconciliations(since_ns=since_ns)
                return any(isinstance(p, ReconciliationCompleted) and p.success for p in passes)

            eventually(reconciled, timeout_s=wait_s, what="a reconciliation after settling")
            assert bot.stop() == 0, bot.err.seen[-20:]
        finally:
            if bot.process.poll() is None:
                _kill_now(bot)
                bot.process.wait(timeout=30)

    def _kill_points(self, sim: SimProcess, kills: list[Kill]) -> dict[str, int]:
        """Where each timed kill landed on its order's path, from the journal at the kill and
        the venue's creation time of the order."""
        created = {o.client_order_id: o.ts_created_ns or 0 for o in sim.our_orders()}
        points: Counter[str] = Counter()
        for kill in kills:
            if kill.intent_id is None:
                continue
            at_venue = created.get(client_order_id(kill.intent_id), kill.at_ns + 1) <= kill.at_ns
            if kill.journaled == "none":
                points["before the journal write"] += 1
            elif not at_venue:
                points["journaled, not at the venue"] += 1
            elif kill.journaled in ("pending_submit", "submitted", "unknown"):
                points["at the venue, its answer not journaled"] += 1
            else:
                points["after the answer was journaled"] += 1
        return dict(points)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bot.chaos", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--kills", type=int, default=200, help="kills (default: 200)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default: 1)")
    parser.add_argument("--faults", action="store_true", help="inject venue faults")
    parser.add_argument("--user-channel", action="store_true", help="follow the user channel")
    parser.add_argument("--timed-share", type=float, default=0.5, help="share of timed kills")
    parser.add_argument("--timed-max-ms", type=float, default=40.0)
    parser.add_argument("--timed-orders", type=int, default=3)
    parser.add_argument("--random-max-s", type=float, default=10.0)
    parser.add_argument("--period-s", type=float, default=1.0, help="seconds between jumps")
    parser.add_argument("--keep", type=Path, help="directory for the journal and bot logs")
    args = parser.parse_args(argv)
    settings = Settings(
        kills=args.kills,
        seed=args.seed,
        timed_share=args.timed_share,
        timed_max_ms=args.timed_max_ms,
        timed_orders=args.timed_orders,
        random_max_s=args.random_max_s,
        period_s=args.period_s,
        faults=args.faults,
        user_channel=args.user_channel,
    )
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        workdir = args.keep
    else:
        workdir = Path(tempfile.mkdtemp(prefix="perpsbot-chaos-"))
    print(f"chaos run in {workdir}: {settings}", flush=True)
    report = ChaosRun(settings, workdir, say=lambda line: print(line, flush=True)).run()
    print("\n".join(report.lines()), flush=True)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
