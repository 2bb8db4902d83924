"""``perpsbot run --profile dev`` as a new user runs it, in an empty directory: it trades the
perpetual-style futures long and short, and its summary lines show leverage, margin use,
funding and PnL. The market moves and the bot samples faster than the defaults (the same
knobs a user has: environment variables), so the round trips come within seconds."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from perpsbot.clock import SystemClock
from tests.support.streams import Lines

PERPS = ("BIP-20DEC30-CDE", "ETP-20DEC30-CDE")
FASTER = {
    "PERPSBOT_MARKET_DATA_UPDATE_INTERVAL_S": "0.2",
    "PERPSBOT_MARKET_DATA_SHORT_MA": "2",
    "PERPSBOT_MARKET_DATA_LONG_MA": "5",
    "PERPSBOT_SIM_VOLATILITY": "0.0005",  # ten times the default: crosses every few seconds
    "PERPSBOT_SIM_SEED": "7",
}
_FILLED = re.compile(r"^order \S+  (buy|sell) \S+ (\S+) market \((entry|exit)\): filled ")
_SUMMARY = re.compile(  # equity, leverage and margin are "-" until the venue's account is read
    r"^  equity (?:-|[\d,]+\.\d\d) USD  leverage (-|\d+\.\d\dx)  margin (-|\d+\.\d%)"
    r"  realized [+-][\d,]+\.\d\d  unrealized [+-][\d,]+\.\d\d  funding [+-][\d,]+\.\d\d"
    r"  today [+-][\d,]+\.\d\d  state \w+"
)
_SHORT = re.compile(r"^  (\S+) +mark .*  short \d+ @ \d+(?:\.\d+)?  upnl [+-]", re.M)


def _round_trips(out: Lines, *, within_s: float) -> set[tuple[str, str]]:
    """Read order lines until a long and a short were each opened and closed (on any of the
    perps); returns the (symbol, side) round trips seen."""
    clock = SystemClock()
    deadline = clock.monotonic() + within_s
    opened: dict[str, str] = {}  # symbol -> "long" / "short"
    done: set[tuple[str, str]] = set()
    while {side for _, side in done} != {"long", "short"}:
        line = out.until("): filled", timeout_s=max(deadline - clock.monotonic(), 0.1))
        found = _FILLED.match(line)
        assert found, line
        side, symbol, purpose = found.groups()
        if purpose == "entry":
            opened[symbol] = "long" if side == "buy" else "short"
        elif symbol in opened:
            done.add((symbol, opened.pop(symbol)))
    return done


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_dev_in_an_empty_directory_trades_perps_long_and_short_and_shows_leverage_margin_funding(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERPSBOT_")}
    bot = subprocess.Popen(
        [sys.executable, "-m", "perpsbot", "--log-level", "WARNING", "run", "--profile", "dev",
         "--duration", "240"],
        cwd=tmp_path, env={**env, **FASTER},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert bot.stdout is not None
    assert bot.stderr is not None
    out, err = Lines(bot.stdout), Lines(bot.stderr)
    try:
        trips = _round_trips(out, within_s=180)
    finally:
        bot.send_signal(signal.SIGTERM)
        code = bot.wait(timeout=30)
        out.close()
        err.close()
    out.skip_received()
    printed = "".join(out.seen)

    assert code == 0, "".join(err.seen)
    assert {symbol for symbol, _ in trips} <= set(PERPS)
    assert {side for _, side in trips} == {"long", "short"}
    assert set(_SHORT.findall(printed)) <= set(PERPS)
    assert _SHORT.findall(printed), "no cycle printed a short position"
    lines = [line for line in printed.splitlines() if line.startswith("  equity ")]
    summaries = [_SUMMARY.match(line) for line in lines]
    assert lines
    assert all(summaries), [line for line, m in zip(lines, summaries, strict=True) if not m]
    figures = [(m.group(1), m.group(2)) for m in summaries if m is not None]
    # While positions were held: leverage and margin use above zero.
    assert any(lev not in ("-", "0.00x") and margin not in ("-", "0.0%") for lev, margin in figures)
    first_state = next(line for line in printed.splitlines() if line.startswith("trading "))
    assert first_state.startswith("trading holding until reconciliation ("), first_state
    assert re.search(r"^stopped(, leaving \d open positions?:| flat )", printed, re.M), printed
    assert (tmp_path / "var" / "dev" / "journal.sqlite3").is_file()  # in the directory it ran
