"""``perpsbot run`` as a user runs it: a real process on the embedded exchange."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

FAST = {
    "PERPSBOT_MARKET_DATA_UPDATE_INTERVAL_S": "0.2",
    "PERPSBOT_MARKET_DATA_POLL_INTERVAL_S": "0.5",
}


def _perpsbot(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "perpsbot", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **FAST, **(env or {})},
    )


def test_run_on_the_dev_profile_prints_each_cycle_and_exits_0() -> None:
    process = _perpsbot("run", "--profile", "dev", "--duration", "3")
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    cycles = re.findall(r"^cycle \d+:$", out, re.MULTILINE)
    assert len(cycles) >= 3, out
    for symbol in ("BTC-USD", "ETH-USD"):
        lines = re.findall(
            rf"^  {symbol} +mark +[\d.]+ +window +\d+ +source (stream|poll)", out, re.M
        )
        assert lines, out
    assert "escalated" not in err


def test_an_invalid_configuration_exits_2_naming_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "bot.toml"
    bad.write_text("[market_data]\nshort_ma = -2\n")
    process = _perpsbot("run", "--config", str(bad), "--duration", "1")
    _, err = process.communicate(timeout=30)
    assert process.returncode == 2
    assert "market_data.short_ma must be a positive integer" in err


def test_sigterm_stops_the_bot_cleanly() -> None:
    process = _perpsbot("run", "--profile", "dev")
    assert process.stdout is not None
    for line in process.stdout:  # wait for the first cycle, not for time
        if line.startswith("cycle 1:"):
            break
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "stopping" in err
