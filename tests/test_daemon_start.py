"""``perpsbot run`` in this process: what it leaves behind, and a stop asked for while it
starts. (``test_daemon.py`` runs it as a separate process, as a user does.)"""

from __future__ import annotations

import argparse
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from perpsbot import daemon
from perpsbot.control import ShellClient
from perpsbot.errors import ControlPlaneError
from perpsbot.runtime.testing import eventually

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1)


@pytest.fixture
def journal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "var" / "journal.sqlite3"
    monkeypatch.setenv("PERPSBOT_JOURNAL_PATH", str(path))
    monkeypatch.setenv("PERPSBOT_MARKET_DATA_UPDATE_INTERVAL_S", "0.2")
    return path


def _args(**options: object) -> argparse.Namespace:
    defaults = {"config": None, "profile": "dev", "live": False, "duration": 60.0}
    return argparse.Namespace(**{**defaults, "dry_run": False, **options})


def _sigterm_when(condition: Callable[[], bool], what: str) -> threading.Thread:
    """A thread that sends SIGTERM to this (the main) thread once ``condition`` holds."""
    main = threading.get_ident()

    def watch() -> None:
        eventually(condition, timeout_s=30, what=what)
        signal.pthread_kill(main, signal.SIGTERM)

    thread = threading.Thread(target=watch, name="test-sigterm")
    thread.start()
    return thread


def _ready(path: Path) -> bool:
    try:
        with ShellClient(path) as client:
            return bool(client.status()["status"]["health"]["ready"])
    except ControlPlaneError:
        return False


def test_a_full_run_gives_the_signals_back_and_leaves_no_thread_behind(journal: Path) -> None:
    handlers = {signum: signal.getsignal(signum) for signum in SIGNALS}
    threads = set(threading.enumerate())
    stopper = _sigterm_when(lambda: _ready(journal.parent / "control" / "shell.sock"), "ready")
    assert daemon.run(_args()) == daemon.EXIT_OK
    stopper.join()
    assert {signum: signal.getsignal(signum) for signum in SIGNALS} == handlers
    eventually(lambda: set(threading.enumerate()) <= threads, what="every thread of the bot ended")


@pytest.fixture
def silent_venue() -> Iterator[socket.socket]:
    """A venue that takes connections and never answers."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server


def test_sigterm_while_starting_stops_before_the_actor_tree_starts(
    journal: Path,
    silent_venue: socket.socket,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    port = silent_venue.getsockname()[1]
    monkeypatch.setenv("PERPSBOT_VENUE_REST_BASE_URL", f"http://127.0.0.1:{port}/api/v3/brokerage")
    monkeypatch.setenv("PERPSBOT_VENUE_MARKET_WS_URL", f"ws://127.0.0.1:{port}/ws")
    monkeypatch.setenv("PERPSBOT_VENUE_REQUEST_TIMEOUT_S", "0.2")
    accepted: list[socket.socket] = []

    def asked_for_products() -> bool:  # start-up checks the symbols against the venue
        silent_venue.settimeout(0.05)
        try:
            accepted.append(silent_venue.accept()[0])
        except TimeoutError:
            return False
        return True

    stopper = _sigterm_when(asked_for_products, "the start-up's request to the venue")
    try:
        assert daemon.run(_args()) == daemon.EXIT_OK
    finally:
        stopper.join()
        for connection in accepted:
            connection.close()
    assert "perpsbot 0.1" not in capsys.readouterr().out  # no banner: nothing was started
