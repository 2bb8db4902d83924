"""``perpsbot run`` as a user runs it: a real process on the embedded exchange."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO

FAST = {
    "PERPSBOT_MARKET_DATA_UPDATE_INTERVAL_S": "0.2",
    "PERPSBOT_MARKET_DATA_POLL_INTERVAL_S": "0.5",
}


def _perpsbot(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    if args[0] != "--log-level":
        args = ("--log-level", "INFO", "--log-format", "text", *args)
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


def test_logs_are_json_lines_when_stderr_is_not_a_terminal() -> None:
    process = _perpsbot("--log-level", "INFO", "run", "--profile", "dev", "--duration", "1")
    _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    records = [json.loads(line) for line in err.splitlines()]  # every line is one object
    started = next(r for r in records if r["message"].startswith("perpsbot running"))
    assert started["level"] == "INFO"
    assert started["logger"] == "perpsbot.daemon"
    assert started["ts"].endswith("+00:00")


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


class _Lines:
    """Reads a stream on a thread, so a test can wait for a line with a deadline."""

    def __init__(self, stream: IO[str]) -> None:
        self._queue: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self._stream = stream
        self._thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self._thread.start()

    def close(self) -> None:
        """After the process ended: let the reader reach end of stream, then close it."""
        self._thread.join(10)
        self._stream.close()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            self._queue.put(line)
        self._queue.put("")  # end of stream

    def until(self, needle: str, timeout_s: float = 20.0) -> str:
        while True:
            try:
                line = self._queue.get(timeout=timeout_s)
            except queue.Empty:
                raise AssertionError(f"no {needle!r} within {timeout_s}s: {self.seen}") from None
            if not line:
                raise AssertionError(f"the bot ended before printing {needle!r}: {self.seen}")
            self.seen.append(line)
            if needle in line:
                return line


def test_sighup_applies_a_changed_file_and_rejects_an_invalid_one(tmp_path: Path) -> None:
    config = tmp_path / "bot.toml"
    config.write_text('[market_data]\nsymbols = ["BTC-USD", "ETH-USD"]\n')
    process = _perpsbot("run", "--config", str(config))
    assert process.stderr is not None
    assert process.stdout is not None
    lines = _Lines(process.stderr)
    try:
        lines.until("perpsbot running")
        config.write_text('[market_data]\nsymbols = ["BTC-USD", "BIP-20DEC30-CDE"]\n')
        process.send_signal(signal.SIGHUP)
        lines.until("perpsbot.daemon: reloaded configuration")
        lines.until("restart bot/streamer")
        config.write_text("[market_data]\nshort_ma = -2\n")
        process.send_signal(signal.SIGHUP)
        lines.until("reload rejected; the running configuration stays")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        lines.close()
        process.stdout.close()
    assert process.returncode == 0
