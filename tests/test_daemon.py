"""``perpsbot run`` as a user runs it: a real process on the embedded exchange, operated from
outside with ``perpsbot shell``, ``perpsbot status``, signals, HTTP and edits to its file."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from perpsbot.errors import JournalInUseError
from perpsbot.journal import JournalLock, JournalReader
from perpsbot.messages import Halt, Resume, TradingState
from perpsbot.runtime.testing import eventually
from tests.support.keys import GARBAGE_PEM
from tests.support.streams import Lines, stop_or_dump

# Process-level: runs perpsbot processes or the whole daemon (pytest -m 'not slow' skips it).
pytestmark = pytest.mark.slow

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


class _Bot:
    """A running ``perpsbot run`` with its stdout and stderr read on threads."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        assert process.stderr is not None
        self.process = process
        self.out = Lines(process.stdout)
        self.err = Lines(process.stderr)
        self.metrics = self.out.until("  metrics  ").split()[1].removesuffix("/metrics")

    def stop(self) -> int:
        code = stop_or_dump(self.process, self.err)
        self.out.close()
        self.err.close()
        return code

    def printed(self) -> tuple[str, str]:
        """Once stopped: everything it wrote to stdout and to stderr."""
        self.out.skip_received()
        self.err.skip_received()
        return "".join(self.out.seen), "".join(self.err.seen)


@contextlib.contextmanager
def _running(tmp_path: Path, config: str, *args: str) -> Iterator[tuple[_Bot, Path]]:
    """A dev bot reading ``bot.toml`` (``config``), stopped at the end if the test did not."""
    path = tmp_path / "bot.toml"
    path.write_text(config)
    bot = _Bot(
        _perpsbot("run", "--profile", "dev", "--config", str(path), *args, tmp_path=tmp_path)
    )
    try:
        yield bot, path
    finally:
        if bot.process.poll() is None:
            bot.stop()


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[_Bot, Path]]:
    """A dev bot reading ``bot.toml`` (watched), started and stopped by the test."""
    with _running(tmp_path, '[market_data]\nsymbols = ["BTC-USD", "ETH-USD"]\n') as running:
        yield running


# For tests of SIGHUP: the file watcher would reload the same edits on its own, at a time the
# test does not choose, and log its outcome among those of the signals.
UNWATCHED = "[control]\nwatch_config = false\n"


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
    assert restarted == {"bot/executor", "bot/streamer", "bot/poller", "bot/userfeed"}
    bot.err.until("configuration reloaded (file change)")

    assert bot.stop() == 0


def test_the_banner_says_where_everything_is_and_marks_print_at_the_price_increment(
    tmp_path: Path,
) -> None:
    spot = {"PERPSBOT_MARKET_DATA_SYMBOLS": "BTC-USD,ETH-USD"}  # dev's other product type
    bot = _Bot(_perpsbot("run", "--profile", "dev", tmp_path=tmp_path, env=spot))
    bot.out.until("cycle 3:")  # its first cycles, however long a busy machine takes to them
    assert bot.stop() == 0
    out, err = bot.printed()
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
    second = _perpsbot(
        "run", "--profile", "dev", "--duration", "5", tmp_path=tmp_path,
        env={
            "PERPSBOT_JOURNAL_PATH": str(tmp_path / "second" / "journal.sqlite3"),
            "PERPSBOT_CONTROL_SOCKET_PATH": str(tmp_path / "var" / "control" / "shell.sock"),
        },
    )  # fmt: skip
    _, err = second.communicate(timeout=30)
    assert second.returncode == 2
    assert "another perpsbot is running with the shell socket" in err


def test_one_journal_one_bot_private_readable_meanwhile_and_free_again_after_a_kill_9(
    running: tuple[_Bot, Path], tmp_path: Path
) -> None:
    bot, _ = running
    bot.err.until("perpsbot running")
    journal = tmp_path / "var" / "journal.sqlite3"
    own_socket = tmp_path / "second" / "shell.sock"
    second = _perpsbot(
        "--log-level", "WARNING", "--log-format", "text",
        "run", "--profile", "dev", "--duration", "5", tmp_path=tmp_path,
        env={"PERPSBOT_CONTROL_SOCKET_PATH": str(own_socket)},
    )  # fmt: skip
    _, err = second.communicate(timeout=30)
    read = _cli("journal", tmp_path=tmp_path)  # readers take no lock
    os.kill(bot.process.pid, signal.SIGKILL)
    bot.process.wait(timeout=30)
    bot.out.close()
    bot.err.close()
    third = _perpsbot("run", "--profile", "dev", "--duration", "1", tmp_path=tmp_path)
    _, third_err = third.communicate(timeout=30)

    assert second.returncode == 2, err
    assert len(err.splitlines()) == 1, err
    assert (
        f"CRITICAL perpsbot.daemon: cannot start: journal {journal} is in use by another"
        f" process (pid {bot.process.pid}, lock file {journal}.lock)"
    ) in err
    assert read.returncode == 0, read.stderr
    assert f"journal {journal}" in read.stdout
    assert stat.S_IMODE(os.stat(journal.parent).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(journal).st_mode) == 0o600
    assert third.returncode == 0, third_err
    assert "perpsbot running" in third_err


def test_a_reload_to_another_journal_holds_it_first_and_then_lets_the_old_one_go(
    tmp_path: Path,
) -> None:
    first, second = tmp_path / "first" / "journal.sqlite3", tmp_path / "second" / "journal.sqlite3"
    config = tmp_path / "bot.toml"

    def journal_at(journal: Path) -> None:
        socket_path = tmp_path / "control" / "shell.sock"
        config.write_text(
            f'{UNWATCHED}socket_path = "{socket_path}"\n[journal]\npath = "{journal}"\n'
        )

    journal_at(first)
    process = subprocess.Popen(  # not _perpsbot: its PERPSBOT_JOURNAL_PATH would outrank the file
        [sys.executable, "-m", "perpsbot", "--log-format", "text", "run", "--profile", "dev",
         "--config", str(config)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env={**os.environ, **FAST},
    )  # fmt: skip
    assert process.stderr is not None
    logs = Lines(process.stderr)
    try:
        logs.until("perpsbot running")
        journal_at(second)
        with JournalLock(second):  # held by another process (this one)
            process.send_signal(signal.SIGHUP)
            rejected = logs.until("(SIGHUP)")  # the outcome, applied or rejected
        process.send_signal(signal.SIGHUP)
        logs.until("configuration reloaded (SIGHUP)")
        with JournalLock(first) as old:
            assert old.held
        with pytest.raises(JournalInUseError, match=f"pid {process.pid}"):
            JournalLock(second).acquire()
    finally:
        stop_or_dump(process, logs)
        logs.close()

    assert "reload rejected, the running configuration stays: " in rejected
    assert f"journal {second} is in use by another process (pid {os.getpid()}," in rejected
    assert process.returncode == 0


@pytest.mark.parametrize("device", [False, True], ids=["directory", "device"])
def test_a_journal_path_that_is_a_directory_or_a_device_exits_2_with_one_line_creating_nothing(
    tmp_path: Path, device: bool
) -> None:
    directory = tmp_path / "journal.sqlite3"
    directory.mkdir()
    path, found = (
        (Path("/dev/null"), "a character device") if device else (directory, "a directory")
    )
    process = _perpsbot(
        "--log-level", "WARNING", "--log-format", "text", "run", "--duration", "5",
        env={"PERPSBOT_JOURNAL_PATH": str(path)}, tmp_path=tmp_path,
    )  # fmt: skip
    _, err = process.communicate(timeout=30)

    assert process.returncode == 2, err
    assert len(err.splitlines()) == 1, err
    assert (
        "CRITICAL perpsbot.daemon: invalid configuration: journal.path must be a regular file,"
        f" or a path where the bot can create one, was '{path}' (found {found})"
    ) in err
    assert list(tmp_path.rglob("*")) == [directory]
    assert not (path.parent / "control").exists()
    assert not Path(f"{path}.lock").exists()


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


def test_sighup_applies_a_changed_file_and_rejects_an_invalid_one(tmp_path: Path) -> None:
    with _running(tmp_path, UNWATCHED) as (bot, config):
        bot.err.until("perpsbot running")
        config.write_text(f'{UNWATCHED}[market_data]\nsymbols = ["BTC-USD", "BIP-20DEC30-CDE"]\n')
        bot.process.send_signal(signal.SIGHUP)
        bot.err.until("restart bot/streamer")  # the supervisor's plan, logged once
        bot.err.until("configuration reloaded (SIGHUP)")
        config.write_text(f"{UNWATCHED}[market_data]\nshort_ma = -2\n")
        bot.process.send_signal(signal.SIGHUP)
        rejected = bot.err.until("reload rejected, the running configuration stays")
        assert "market_data.short_ma must be a positive integer" in rejected
        assert rejected.endswith("(SIGHUP)\n"), rejected
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
    lines = Lines(sim.stdout)
    try:
        rest = lines.until("rest:").split()[1]
        market = lines.until("market ws:").split()[2]
        env = {"PERPSBOT_VENUE_REST_BASE_URL": rest, "PERPSBOT_VENUE_MARKET_WS_URL": market}
        bot = _Bot(_perpsbot("run", "--profile", "dev", tmp_path=tmp_path, env=env))
        streamed = r"^  BIP-20DEC30-CDE +mark +\d+ +window +\d+ +source stream"  # at its 5 USD
        while not re.match(streamed, bot.out.until("source stream")):
            pass  # another symbol's line
        assert bot.stop() == 0
        assert f"  venue    venue: REST {rest}, market ws {market}\n" in bot.out.seen
    finally:
        sim.send_signal(signal.SIGTERM)
        sim.wait(timeout=30)
        lines.close()
        assert sim.stderr is not None
        sim.stderr.close()


def test_an_operator_halts_a_running_bot_through_the_shell_and_resumes_it(
    running: tuple[_Bot, Path], tmp_path: Path
) -> None:
    bot, config = running
    eventually(
        lambda: requests.get(f"{bot.metrics}/readyz", timeout=5).status_code == 200,
        timeout_s=20,
        what="/readyz (fresh marks, the startup reconciliation done)",
    )
    shell = ("shell", "--config", str(config), "-c")

    halted = _cli(*shell, 'halt("e2e maintenance")', tmp_path=tmp_path)

    assert halted.returncode == 0, halted.stderr
    assert halted.stdout.startswith("trading HALTED ("), halted.stdout
    assert "committed to the journal" in halted.stdout
    trading = _status(config, tmp_path)["trading"]
    assert trading["state"] == "halted"
    assert any("e2e maintenance" in reason for reason in trading["reasons"])
    assert (
        'perpsbot_trading_state{state="halted"} 1.0'
        in requests.get(f"{bot.metrics}/metrics", timeout=5).text
    )
    with JournalReader(tmp_path / "var" / "journal.sqlite3") as journal:  # read-only
        command = journal.last_operator_command()
        changed = journal.last_trading_state()
        audit = [(a.action, a.detail) for a in journal.operator_actions()]
    assert isinstance(command, Halt)
    assert command.reason == "e2e maintenance"
    assert command.operator.startswith("shell uid=")
    assert changed is not None
    assert changed.state is TradingState.HALTED
    assert audit == [("halt", "e2e maintenance")]

    resumed = _cli(*shell, 'resume("e2e done")', tmp_path=tmp_path)

    assert resumed.returncode == 0, resumed.stderr
    answer = resumed.stdout.splitlines()[0]
    assert re.match(r"trading (ACTIVE$|REDUCING \()", answer), answer  # as conditions allow
    assert "e2e maintenance" not in answer
    assert _status(config, tmp_path)["trading"]["state"] != "halted"
    with JournalReader(tmp_path / "var" / "journal.sqlite3") as journal:
        assert isinstance(journal.last_operator_command(), Resume)
        assert [a.action for a in journal.operator_actions()] == ["halt", "resume"]
    assert bot.stop() == 0


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
        env=env, tmp_path=tmp_path,
    )  # fmt: skip
    _, err = process.communicate(timeout=30)
    assert process.returncode == 2, err
    assert len(err.splitlines()) == 1, err
    assert "CRITICAL perpsbot.daemon: invalid configuration: " in err
    assert message in err
    assert GARBAGE_PEM.splitlines()[1] not in err


def test_sim_ports_in_use_exit_2_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    with _listening_socket() as held:
        port = held.getsockname()[1]
        process = _perpsbot(
            "--log-level", "WARNING", "--log-format", "text", "run", "--duration", "5",
            env={"PERPSBOT_SIM_WS_PORT": str(port)}, tmp_path=tmp_path,
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
    config.write_text(f'{UNWATCHED}[market_data]\nsymbols = ["BTC-USD"]\n')
    process = _perpsbot("run", "--profile", "dev", "--config", str(config), tmp_path=tmp_path)
    assert process.stderr is not None
    assert process.stdout is not None
    logs, out = Lines(process.stderr), Lines(process.stdout)
    unusable: list[tuple[Callable[[], None], str]] = [
        (lambda: config.write_bytes(b"\xff\xfe["), "(not UTF-8: byte 0xff at offset 0)"),
        (lambda: config.write_text("a = " + "[" * 5000 + "]" * 5000), "(nested too deeply)"),
        (lambda: config.write_text('[market_data]\nsymbols = ["FOO-BAR"]\n'), "'FOO-BAR'"),
        (
            lambda: config.write_text("[runtime]\nrestart_buffer_capacity = 9223372036854775807\n"),
            "runtime.restart_buffer_capacity must be a positive integer at most 1000000",
        ),
        (lambda: (config.unlink(), config.mkdir()), "(Is a directory)"),
    ]
    try:
        logs.until("perpsbot running")
        for corrupt, reason in unusable:
            corrupt()
            process.send_signal(signal.SIGHUP)
            rejected = logs.until("reload rejected, the running configuration stays")
            assert reason in rejected
            assert rejected.endswith("(SIGHUP)\n"), rejected
            out.skip_received()
            out.until("cycle ")  # a cycle printed after the rejection: the bot runs on
    finally:
        stop_or_dump(process, logs)
        logs.close()
        out.close()
    assert process.returncode == 0
    assert not any("Traceback" in line for line in logs.seen)
