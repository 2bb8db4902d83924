"""``perpsbot run`` as a user runs it: a real process on the embedded exchange."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pytest

from tests.support.keys import GARBAGE_PEM

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

    def skip_received(self) -> None:
        """Pass over every line received so far, so ``until`` waits for a line yet to come."""
        while True:
            try:
                line = self._queue.get_nowait()
            except queue.Empty:
                return
            if not line:
                self._queue.put(line)  # keep the end of stream for until()
                return
            self.seen.append(line)

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


def _listening_socket() -> socket.socket:
    """A socket that holds a loopback port, so a server that wants it finds it in use."""
    held = socket.socket()
    held.bind(("127.0.0.1", 0))
    held.listen()
    return held


@pytest.mark.parametrize(
    ("arguments", "env", "file", "message"),
    [
        ((), {}, b"\xff\xfe[", "config file must be a readable UTF-8 text file"),
        ((), {}, b"a = " + b"[" * 5000 + b"]" * 5000, "(nested too deeply)"),
        (
            (),
            {"PERPSBOT_MARKET_DATA_SYMBOLS": "FOO-BAR,BTC-USX"},
            b"",
            "market_data.symbols must name products the venue offers (BIP-20DEC30-CDE, BTC-USD,"
            " ETH-USD, ETP-20DEC30-CDE), was 'FOO-BAR', 'BTC-USX' (did you mean BTC-USD?)",
        ),
        ((), {"PERPSBOT_SIM_HOST": "10.0.0.8"}, b"", "sim.host must be a loopback address"),
        (
            (),
            {"PERPSBOT_RUNTIME_WATCHDOG_INTERVAL_S": "1e10"},
            b"",
            "runtime.watchdog_interval_s must be a number of seconds from 0.001 to 86400,"
            " was '1e10'",
        ),
        (
            ("--profile", "canary", "--live"),
            {
                "PERPSBOT_VENUE_API_KEY_NAME": "organizations/o/apiKeys/k",
                "PERPSBOT_VENUE_API_PRIVATE_KEY": GARBAGE_PEM,
            },
            b"",
            "venue.api_private_key must be an unencrypted PEM EC P-256 or Ed25519 private key",
        ),
    ],
    ids=["not-utf8", "nested", "unknown-symbol", "sim-host", "huge-interval", "garbage-pem"],
)
def test_a_start_up_failure_exits_2_with_one_line_and_no_traceback(
    tmp_path: Path,
    arguments: tuple[str, ...],
    env: dict[str, str],
    file: bytes,
    message: str,
) -> None:
    config = tmp_path / "bot.toml"
    config.write_bytes(file)
    process = _perpsbot(
        "--log-level", "WARNING", "--log-format", "text",
        "run", "--config", str(config), "--duration", "5", *arguments,
        env=env,
    )  # fmt: skip
    _, err = process.communicate(timeout=30)
    assert process.returncode == 2, err
    assert len(err.splitlines()) == 1, err
    assert "CRITICAL perpsbot.daemon: invalid configuration: " in err
    assert message in err
    assert GARBAGE_PEM.splitlines()[1] not in err


def test_sim_ports_in_use_exit_2_with_one_line_and_no_traceback() -> None:
    with _listening_socket() as held:
        port = held.getsockname()[1]
        process = _perpsbot(
            "--log-level", "WARNING", "--log-format", "text", "run", "--duration", "5",
            env={"PERPSBOT_SIM_WS_PORT": str(port)},
        )  # fmt: skip
        _, err = process.communicate(timeout=30)
    assert process.returncode == 2, err
    assert len(err.splitlines()) == 1, err
    assert (
        "invalid configuration: sim.rest_port and sim.ws_port must be free ports on 127.0.0.1"
        f" (0 picks a free one), were 0 and {port} (Address already in use)"
    ) in err


def test_sighup_with_an_unusable_file_is_rejected_and_the_bot_runs_on(tmp_path: Path) -> None:
    config = tmp_path / "bot.toml"
    config.write_text('[market_data]\nsymbols = ["BTC-USD"]\n')
    process = _perpsbot("run", "--profile", "dev", "--config", str(config))
    assert process.stderr is not None
    assert process.stdout is not None
    logs, out = _Lines(process.stderr), _Lines(process.stdout)
    unusable: list[tuple[Callable[[], None], str]] = [
        (lambda: config.write_bytes(b"\xff\xfe["), "(not UTF-8: byte 0xff at offset 0)"),
        (lambda: config.write_text("a = " + "[" * 5000 + "]" * 5000), "(nested too deeply)"),
        (lambda: config.write_text('[market_data]\nsymbols = ["FOO-BAR"]\n'), "'FOO-BAR'"),
        (
            lambda: config.write_text("[runtime]\nmailbox_capacity = 9223372036854775807\n"),
            "runtime.mailbox_capacity must be a positive integer at most 10000000",
        ),
        (lambda: (config.unlink(), config.mkdir()), "(Is a directory)"),
    ]
    try:
        logs.until("perpsbot running")
        for corrupt, reason in unusable:
            corrupt()
            process.send_signal(signal.SIGHUP)
            rejected = logs.until("reload rejected; the running configuration stays")
            assert reason in rejected
            out.skip_received()
            out.until("cycle ")  # a cycle printed after the rejection: the bot runs on
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        logs.close()
        out.close()
    assert process.returncode == 0
    assert not any("Traceback" in line for line in logs.seen)
