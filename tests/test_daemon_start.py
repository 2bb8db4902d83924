"""``perpsbot run`` in this process: what it leaves behind, and a stop asked for while it
starts. (``test_daemon.py`` runs it as a separate process, as a user does.)"""

from __future__ import annotations

import argparse
import logging
import signal
import socket
import threading
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from perpsbot import daemon
from perpsbot.control import ShellClient
from perpsbot.data import RecordedEnd, RecordedFrame, read_recording
from perpsbot.errors import ControlPlaneError
from perpsbot.runtime.testing import eventually
from perpsbot.venue.codec import decode_frame
from perpsbot.venue.frames import Level2Frame

# Process-level: runs perpsbot processes or the whole daemon (pytest -m 'not slow' skips it).
pytestmark = pytest.mark.slow

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1)


@pytest.fixture
def journal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "var" / "journal.sqlite3"
    monkeypatch.setenv("PERPSBOT_JOURNAL_PATH", str(path))
    monkeypatch.setenv("PERPSBOT_MARKET_DATA_UPDATE_INTERVAL_S", "0.2")
    return path


def _args(**options: object) -> argparse.Namespace:
    defaults = {"config": None, "profile": "dev", "live": False, "duration": 60.0}
    return argparse.Namespace(
        **{
            **defaults,
            "dry_run": False,
            "fresh_paper": False,
            "record": None,
            "tracemalloc": None,
            **options,
        }
    )


class _SigtermWhen:
    """A thread that sends SIGTERM to this (the main) thread once ``condition`` holds, or
    after 30 s anyway (so that a failing test ends); :meth:`join` says which."""

    def __init__(self, condition: Callable[[], bool], what: str) -> None:
        self._main = threading.get_ident()
        self._condition = condition
        self._what = what
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._watch, name="test-sigterm")
        self._thread.start()

    def _watch(self) -> None:
        try:
            eventually(self._condition, timeout_s=30, what=self._what)
        except BaseException as error:  # reported by join(), in the test's thread
            self._error = error
        finally:
            signal.pthread_kill(self._main, signal.SIGTERM)

    def join(self) -> None:
        self._thread.join()
        if self._error is not None:
            raise self._error


def _ready(path: Path) -> bool:
    try:
        with ShellClient(path) as client:
            return bool(client.status()["status"]["health"]["ready"])
    except ControlPlaneError:
        return False


def test_a_full_run_gives_the_signals_back_and_leaves_no_thread_behind(journal: Path) -> None:
    handlers = {signum: signal.getsignal(signum) for signum in SIGNALS}
    threads = set(threading.enumerate())
    stopper = _SigtermWhen(lambda: _ready(journal.parent / "control" / "shell.sock"), "ready")
    assert daemon.run(_args()) == daemon.EXIT_OK
    stopper.join()
    assert {signum: signal.getsignal(signum) for signum in SIGNALS} == handlers
    eventually(lambda: set(threading.enumerate()) <= threads, what="every thread of the bot ended")


@pytest.mark.timeout(180)  # tracing slows the embedded sim's start (its candle history) 3x
def test_a_traced_run_writes_a_loadable_snapshot_on_sigusr2_and_stops_tracing_as_it_ends(
    journal: Path, tmp_path: Path
) -> None:
    handler = signal.getsignal(signal.SIGUSR2)
    main, asked = threading.get_ident(), threading.Event()
    snapshot = tmp_path / "tracemalloc-1.snapshot"

    def snapshot_written() -> bool:
        # The journal's lock is taken after the handler is in place: ask from then on.
        if not asked.is_set() and journal.with_name(journal.name + ".lock").exists():
            asked.set()
            signal.pthread_kill(main, signal.SIGUSR2)
        return snapshot.exists()

    stopper = _SigtermWhen(snapshot_written, "a tracemalloc snapshot")
    assert daemon.run(_args(tracemalloc=tmp_path)) == daemon.EXIT_OK
    stopper.join()
    assert tracemalloc.Snapshot.load(str(snapshot)).traces
    assert not tracemalloc.is_tracing()
    assert signal.getsignal(signal.SIGUSR2) == handler


def test_a_recording_run_keeps_the_feeds_messages_as_received(
    journal: Path, tmp_path: Path
) -> None:
    path = tmp_path / "run.jsonl.gz"
    stopper = _SigtermWhen(lambda: _ready(journal.parent / "control" / "shell.sock"), "ready")
    assert daemon.run(_args(record=path)) == daemon.EXIT_OK
    stopper.join()
    records = list(read_recording(path))
    frames = [r for r in records if isinstance(r, RecordedFrame)]
    decoded = [decode_frame(frame.raw) for frame in frames]
    # Ready means every symbol has a fresh mark: their books came through the feed.
    books = {e.product_id for f in decoded if isinstance(f, Level2Frame) for e in f.events}
    assert books == {"BIP-20DEC30-CDE", "ETP-20DEC30-CDE"}  # dev's symbols
    times = [frame.received_ns for frame in frames]
    assert times == sorted(times)
    end = records[-1]  # when the run stopped recording, after its last frame
    assert isinstance(end, RecordedEnd)
    assert end.ended_ns >= times[-1]


@pytest.fixture
def silent_venue() -> Iterator[socket.socket]:
    """A venue that takes connections and never answers."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server


class _SilentVenue:
    """Points the bot at a venue that takes connections and never answers, so that start-up
    waits in its symbol check (``venue.request_timeout_s``) for as long as a test needs."""

    def __init__(self, server: socket.socket, monkeypatch: pytest.MonkeyPatch) -> None:
        self._server = server
        self._accepted: list[socket.socket] = []
        url = f"127.0.0.1:{server.getsockname()[1]}"
        monkeypatch.setenv("PERPSBOT_VENUE_REST_BASE_URL", f"http://{url}/api/v3/brokerage")
        monkeypatch.setenv("PERPSBOT_VENUE_MARKET_WS_URL", f"ws://{url}/ws")
        monkeypatch.setenv("PERPSBOT_VENUE_REQUEST_TIMEOUT_S", "0.2")

    def asked(self) -> bool:
        """Whether the bot has connected (one more time) since the last call."""
        self._server.settimeout(0.05)
        try:
            self._accepted.append(self._server.accept()[0])
        except TimeoutError:
            return False
        return True

    def close(self) -> None:
        """From now on, requests fail at once (connection refused)."""
        for connection in self._accepted:
            connection.close()
        self._server.close()


@pytest.fixture
def starting_slowly(
    silent_venue: socket.socket, monkeypatch: pytest.MonkeyPatch
) -> Iterator[_SilentVenue]:
    venue = _SilentVenue(silent_venue, monkeypatch)
    yield venue
    venue.close()


@pytest.mark.slow
def test_sigterm_while_starting_stops_before_the_actor_tree_starts(
    journal: Path, starting_slowly: _SilentVenue, capsys: pytest.CaptureFixture[str]
) -> None:
    stopper = _SigtermWhen(starting_slowly.asked, "the start-up's request to the venue")
    try:
        assert daemon.run(_args()) == daemon.EXIT_OK
    finally:
        stopper.join()
    assert "perpsbot 0.1" not in capsys.readouterr().out  # no banner: nothing was started


@pytest.mark.slow
def test_an_edit_while_starting_is_reloaded_once_the_bot_runs(
    journal: Path,
    starting_slowly: _SilentVenue,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = tmp_path / "bot.toml"
    config.write_text('[market_data]\nsymbols = ["BTC-USD"]\n')

    def edited_while_starting() -> bool:
        if not starting_slowly.asked():
            return False
        config.write_text('[market_data]\nsymbols = ["BTC-USD", "ETH-USD"]\n')
        starting_slowly.close()  # the rest need not wait for timeouts
        return True

    def reloaded() -> bool:
        return "configuration reloaded (file change while starting)" in caplog.text

    caplog.set_level(logging.INFO)
    editor = threading.Thread(
        target=eventually, args=(edited_while_starting,), kwargs={"timeout_s": 30}
    )
    editor.start()
    stopper = _SigtermWhen(reloaded, "the reload of the edit")
    try:
        assert daemon.run(_args(config=config)) == daemon.EXIT_OK
    finally:
        editor.join()
        stopper.join()
