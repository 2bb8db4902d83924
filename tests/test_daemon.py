"""``perpsbot run`` as a user runs it: a real process on the embedded exchange, operated from
outside with ``perpsbot shell``, ``perpsbot status``, signals, HTTP and edits to its file."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest
import requests

from tests.support.waiting import eventually

FAST = {
    "PERPSBOT_MARKET_DATA_UPDATE_INTERVAL_S": "0.2",
    "PERPSBOT_MARKET_DATA_POLL_INTERVAL_S": "0.5",
}


def _perpsbot(
    *args: str, tmp_path: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    """``perpsbot ARGS`` with its journal (and so its shell socket) under ``tmp_path``."""
    if args[0] != "--log-level":
        args = ("--log-level", "INFO", "--log-format", "text", *args)
    journal = {"PERPSBOT_JOURNAL_PATH": str(tmp_path / "var" / "journal.sqlite3")}
    return subprocess.Popen(
        [sys.executable, "-m", "perpsbot", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **FAST, **journal, **(env or {})},
    )


def _cli(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """A one-shot ``perpsbot`` command (shell, status) against the bot under ``tmp_path``."""
    journal = {"PERPSBOT_JOURNAL_PATH": str(tmp_path / "var" / "journal.sqlite3")}
    return subprocess.run(
        [sys.executable, "-m", "perpsbot", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={**os.environ, **FAST, **journal},
    )


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


class _Bot:
    """A running ``perpsbot run`` with its stdout and stderr read on threads."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        assert process.stderr is not None
        self.process = process
        self.out = _Lines(process.stdout)
        self.err = _Lines(process.stderr)
        self.metrics = self.out.until("  metrics  ").split()[1].removesuffix("/metrics")

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=30)
        self.out.close()
        self.err.close()
        return code


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[_Bot, Path]]:
    """A dev bot reading ``bot.toml`` (watched), started and stopped by the test."""
    config = tmp_path / "bot.toml"
    config.write_text('[market_data]\nsymbols = ["BTC-USD", "ETH-USD"]\n')
    bot = _Bot(_perpsbot("run", "--profile", "dev", "--config", str(config), tmp_path=tmp_path))
    try:
        yield bot, config
    finally:
        if bot.process.poll() is None:
            bot.stop()


def _status(config: Path, tmp_path: Path) -> dict[str, Any]:
    done = _cli("status", "--json", "--config", str(config), tmp_path=tmp_path)
    assert done.returncode in (0, 1), done.stderr
    status: dict[str, Any] = json.loads(done.stdout)
    return status


def _incarnations(status: dict[str, Any]) -> dict[str, int]:
    return {actor["path"]: actor["incarnation"] for actor in status["actors"]}


def test_the_operator_scenario_ready_shell_status_reload_from_disk_and_sigterm(
    running: tuple[_Bot, Path], tmp_path: Path
) -> None:
    bot, config = running
    eventually(
        lambda: requests.get(f"{bot.metrics}/readyz", timeout=5).status_code == 200,
        timeout_s=20,
        what="/readyz",
    )
    tree = _cli("shell", "--config", str(config), "-c", "tree()", tmp_path=tmp_path)
    assert tree.returncode == 0, tree.stderr
    assert re.search(r"^  streamer +StreamerActor +running", tree.stdout, re.M), tree.stdout
    mark = _cli(
        "shell", "--config", str(config), "-c", "marks('BTC-USD')['mark']", tmp_path=tmp_path
    )
    assert re.fullmatch(r"'\d+\.\d+'\n", mark.stdout), mark

    before = _incarnations(_status(config, tmp_path))
    config.write_text('[market_data]\nsymbols = ["BTC-USD", "BIP-20DEC30-CDE"]\n')
    after = eventually(
        lambda: (
            (status := _status(config, tmp_path))["health"]["ready"]
            and _incarnations(status)["bot/streamer"] == 2
            and _incarnations(status)
        ),
        timeout_s=30,
        what="the streamer restarted and fresh marks for the new symbols",
    )
    restarted = {path for path, n in after.items() if n != before[path]}
    assert restarted == {"bot/streamer", "bot/poller"}
    bot.err.until("configuration reloaded (file change)")

    assert bot.stop() == 0


def test_the_banner_says_where_everything_is_and_marks_print_at_the_price_increment(
    tmp_path: Path,
) -> None:
    process = _perpsbot("run", "--profile", "dev", "--duration", "3", tmp_path=tmp_path)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    banner = out.split("cycle 1:")[0]
    assert re.match(r"perpsbot \S+, profile dev \(paper money\), pid \d+\n", banner), banner
    socket = tmp_path / "var" / "control" / "shell.sock"
    assert f"  shell    perpsbot shell --socket {socket}\n" in banner
    assert re.search(r"  metrics  http://127\.0\.0\.1:\d+/metrics", banner)
    assert f"  journal  {tmp_path / 'var' / 'journal.sqlite3'}" in banner
    assert "  venue    embedded exchange: REST http://127.0.0.1:" in banner
    cycles = re.findall(r"^cycle \d+:", out, re.MULTILINE)
    assert len(cycles) >= 3, out
    for symbol in ("BTC-USD", "ETH-USD"):
        marks = re.findall(rf"^  {symbol} +mark +(\d+\.\d+) +window +\d+ +source", out, re.M)
        assert marks, out
        assert all(len(mark.split(".")[1]) == 2 for mark in marks), marks  # 0.01 increments
    assert "escalated" not in err
    assert "websockets" not in err  # its INFO chatter is silenced
    assert "feed: " not in out  # feed changes are logged, not printed twice


def test_an_invalid_configuration_exits_2_naming_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "bot.toml"
    bad.write_text("[market_data]\nshort_ma = -2\n")
    process = _perpsbot("run", "--config", str(bad), "--duration", "1", tmp_path=tmp_path)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 2
    assert "market_data.short_ma must be a positive integer" in err


def test_a_second_bot_with_the_same_socket_exits_2(
    running: tuple[_Bot, Path], tmp_path: Path
) -> None:
    bot, _ = running
    bot.err.until("perpsbot running")
    second = _perpsbot("run", "--profile", "dev", "--duration", "5", tmp_path=tmp_path)
    _, err = second.communicate(timeout=30)
    assert second.returncode == 2
    assert "another perpsbot is running with the shell socket" in err


def test_logs_are_json_lines_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    process = _perpsbot(
        "--log-level", "INFO", "run", "--profile", "dev", "--duration", "1", tmp_path=tmp_path
    )
    _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    records = [json.loads(line) for line in err.splitlines()]  # every line is one object
    started = next(r for r in records if r["message"].startswith("perpsbot running"))
    assert started["level"] == "INFO"
    assert started["logger"] == "perpsbot.daemon"
    assert started["ts"].endswith("+00:00")
    assert started["endpoints"]["metrics"].startswith("http://127.0.0.1:")


def test_sighup_applies_a_changed_file_and_rejects_an_invalid_one(
    running: tuple[_Bot, Path],
) -> None:
    bot, config = running
    bot.err.until("perpsbot running")
    config.write_text('[market_data]\nsymbols = ["BTC-USD", "BIP-20DEC30-CDE"]\n')
    bot.process.send_signal(signal.SIGHUP)
    bot.err.until("restart bot/streamer")  # the supervisor's plan, logged once
    bot.err.until("configuration reloaded (SIGHUP")
    config.write_text("[market_data]\nshort_ma = -2\n")
    bot.process.send_signal(signal.SIGHUP)
    rejected = bot.err.until("reload rejected, the running configuration stays")
    assert "market_data.short_ma must be a positive integer" in rejected
    assert bot.stop() == 0


def test_sigusr1_dumps_every_thread_naming_the_actor_it_runs(running: tuple[_Bot, Path]) -> None:
    bot, _ = running
    bot.err.until("perpsbot running")
    bot.process.send_signal(signal.SIGUSR1)
    bot.err.until("thread dump (SIGUSR1)")
    bot.err.until("[actor bot/marks #1]")
    assert bot.stop() == 0


def test_a_paper_bot_targets_a_separately_started_sim(tmp_path: Path) -> None:
    sim = _perpsbot("sim", "--seed", "3", tmp_path=tmp_path)
    assert sim.stdout is not None
    lines = _Lines(sim.stdout)
    try:
        rest = lines.until("rest:").split()[1]
        market = lines.until("market ws:").split()[2]
        env = {"PERPSBOT_VENUE_REST_BASE_URL": rest, "PERPSBOT_VENUE_MARKET_WS_URL": market}
        bot = _perpsbot("run", "--profile", "dev", "--duration", "2", tmp_path=tmp_path, env=env)
        out, err = bot.communicate(timeout=30)
        assert bot.returncode == 0, err
        assert f"  venue    venue: REST {rest}, market ws {market}" in out
        assert re.search(r"^  BTC-USD +mark +\d+\.\d\d +window +\d+ +source stream", out, re.M)
    finally:
        sim.send_signal(signal.SIGTERM)
        sim.wait(timeout=30)
        lines.close()
        assert sim.stderr is not None
        sim.stderr.close()
