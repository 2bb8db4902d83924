"""The shell socket: private, checked by the peer's uid, one session per connection."""

from __future__ import annotations

import io
import os
import re
import signal
import socket
import stat
import tempfile
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from perpsbot.cli import main
from perpsbot.control import Peer, Session, ShellClient, ShellServer
from perpsbot.errors import ControlPlaneError

NOBODY = 65534


def _server(path: Path, **options: Any) -> ShellServer:
    names = options.pop("names", {})
    status = options.pop("status", lambda: {"status": {"ready": True}, "text": "all well"})

    def open_session(peer: Peer) -> Session:
        return Session({"peer": peer, "answer": 42, **names}, redact=lambda text: text)

    return ShellServer(
        path,
        open_session=open_session,
        status=status,
        hello={"name": "test", "pid": os.getpid()},
        **options,
    )


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "control" / "shell.sock"


@pytest.fixture
def server(path: Path) -> Iterator[ShellServer]:
    with _server(path) as server:
        yield server


def test_the_socket_is_0600_in_a_directory_only_its_user_may_enter(
    server: ShellServer, path: Path
) -> None:
    assert stat.S_ISSOCK(os.lstat(path).st_mode)
    assert stat.S_IMODE(os.lstat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.lstat(path.parent).st_mode) == 0o700


def test_a_client_runs_source_completes_names_and_reads_the_status(
    server: ShellServer, path: Path
) -> None:
    with ShellClient(path) as client:
        assert client.hello == {"name": "test", "pid": os.getpid()}
        assert client.run("answer * 2") == ("84\n", False)
        assert client.run("peer.uid") == (f"{os.geteuid()}\n", False)  # its own SO_PEERCRED
        assert client.complete("ans") == ["answer"]
        assert client.status() == {"status": {"ready": True}, "text": "all well"}
        output, failed = client.run("undefined_name")
        assert failed
        assert output.endswith("NameError: name 'undefined_name' is not defined\n")


def test_sessions_are_separate(server: ShellServer, path: Path) -> None:
    with ShellClient(path) as first, ShellClient(path) as second:
        first.run("mine = 1")
        assert second.run("'mine' in dir()") == ("False\n", False)


def test_a_peer_whose_uid_is_not_allowed_is_refused(path: Path) -> None:
    with _server(path, allowed_uid=os.geteuid() + 1), pytest.raises(ControlPlaneError) as raised:
        ShellClient(path)
    assert f"refused the connection: only uid {os.geteuid() + 1} may attach" in str(raised.value)


def _connect_as(uid: int, path: Path) -> str:
    """Connect from a forked child running as ``uid``; what it read, or its error."""
    read, write = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads: the child
        pid = os.fork()  # only connects and reads, it never touches a lock
    if pid == 0:  # pragma: no cover - the child
        try:
            os.setuid(uid)
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(5)
                sock.connect(str(path))
                result = sock.makefile("rb").readline()
        except OSError as error:
            result = f"{type(error).__name__}\n".encode()
        os.write(write, result)
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        answer = pipe.read().decode()
    os.waitpid(pid, 0)
    return answer


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another uid")
def test_another_user_cannot_reach_the_socket_and_is_refused_even_if_it_could() -> None:
    with tempfile.TemporaryDirectory(dir="/tmp") as top:  # pytest's tmp_path is root-only
        os.chmod(top, 0o755)
        path = Path(top) / "control" / "shell.sock"
        with _server(path):
            assert _connect_as(NOBODY, path) == "PermissionError\n"  # the 0700 directory
            os.chmod(path.parent, 0o755)  # as if the directory and socket were left open:
            os.chmod(path, 0o666)
            refused = _connect_as(NOBODY, path)
    assert refused == '{"refused":"only uid 0 may attach"}\n'  # SO_PEERCRED stops it


def test_a_socket_left_by_a_dead_bot_is_replaced(path: Path) -> None:
    path.parent.mkdir(mode=0o700)
    leftover = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    leftover.bind(str(path))
    leftover.close()  # bound, never listening: what a killed bot leaves behind
    with _server(path), ShellClient(path) as client:
        assert client.run("answer") == ("42\n", False)


def test_a_second_bot_on_the_same_socket_is_refused(server: ShellServer, path: Path) -> None:
    with pytest.raises(ControlPlaneError, match="another perpsbot is running"):
        _server(path).start()
    with ShellClient(path) as client:  # the first one is untouched
        assert client.run("answer") == ("42\n", False)


def test_a_directory_open_to_others_is_refused(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    with pytest.raises(ControlPlaneError, match=r"must be private \(mode 0700.* was mode 0777"):
        _server(shared / "shell.sock").start()


def test_a_directory_that_cannot_be_created_is_an_error_naming_it(tmp_path: Path) -> None:
    # Short names: under xdist (popen-gw0) and past pytest-999, a long path would be refused
    # for its length (at most 107 bytes) before its directory is tried.
    (tmp_path / "j").write_text("")  # a file where the directory would go
    directory = tmp_path / "j" / "control"
    with pytest.raises(
        ControlPlaneError,
        match=rf"directory {directory} could not be created \(Not a directory\)",
    ):
        _server(directory / "shell.sock").start()


def test_closing_ends_sessions_and_removes_the_socket(path: Path) -> None:
    server = _server(path)
    server.start()
    client = ShellClient(path)
    server.close()
    assert not path.exists()
    with pytest.raises(ControlPlaneError, match="closed the connection"):
        client.run("answer")
    client.close()
    with pytest.raises(ControlPlaneError, match="no perpsbot answers"):
        ShellClient(path)


def test_a_socket_named_relative_to_the_working_directory_is_shown_resolved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    where = re.escape(f"{tmp_path}/var/dev/control/shell.sock")

    with pytest.raises(ControlPlaneError, match=f"no perpsbot answers at {where} "):
        ShellClient(Path("var/dev/control/shell.sock"))


@pytest.fixture
def ctrl_c_raises() -> Iterator[None]:
    """SIGINT raises KeyboardInterrupt, as at a terminal, wherever the suite runs (Python
    leaves it ignored when it starts ignored, as in a background job)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.mark.usefixtures("ctrl_c_raises")
def test_an_answer_interrupted_by_ctrl_c_is_not_taken_for_the_next_ones(path: Path) -> None:
    started, release = threading.Event(), threading.Event()
    with _server(path, names={"started": started, "release": release}), ShellClient(path) as client:
        main = threading.get_ident()

        def interrupt_once_running() -> None:
            if started.wait(5):
                signal.pthread_kill(main, signal.SIGINT)  # Ctrl-C at the waiting client

        threading.Thread(target=interrupt_once_running).start()
        with pytest.raises(KeyboardInterrupt):
            client.run("started.set(); release.wait(5); 'the interrupted one'")
        release.set()  # the bot finishes it; its answer must not go to the next request
        assert client.run("answer") == ("42\n", False)
        assert client.run("answer + 1") == ("43\n", False)


def test_shell_c_against_a_bot_that_goes_away_says_so_and_exits_2(
    path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def stop_the_bot() -> None:
        server.close()

    server = _server(path, names={"stop_the_bot": stop_the_bot})
    server.start()
    try:
        code = main(["shell", "--socket", str(path), "-c", "stop_the_bot()"])
    finally:
        server.close()
    assert code == 2
    assert capsys.readouterr().err == (f"perpsbot shell: the bot at {path} closed the connection\n")


def _listen_as(uid: int, path: Path) -> int:
    """A forked child running as ``uid`` that serves one hello on ``path``; its pid."""
    ready_read, ready_write = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # as in _connect_as
        pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.setuid(uid)
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.bind(str(path))
                sock.listen(1)
                os.write(ready_write, b"1")
                sock.settimeout(5)
                connection, _ = sock.accept()
                with connection:
                    connection.sendall(b'{"hello":{"name":"not the bot"}}\n')
                    connection.settimeout(5)
                    connection.recv(1)  # until the client hangs up
        finally:
            os._exit(0)
    os.close(ready_write)
    with os.fdopen(ready_read, "rb") as ready:
        assert ready.read(1) == b"1"
    return pid


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another uid")
def test_the_client_leaves_a_socket_served_by_another_user() -> None:
    with tempfile.TemporaryDirectory(dir="/tmp") as top:
        os.chmod(top, 0o777)  # somewhere another user could have planted a socket
        path = Path(top) / "shell.sock"
        pid = _listen_as(NOBODY, path)
        try:
            with pytest.raises(ControlPlaneError, match=f"was served by uid={NOBODY} pid="):
                ShellClient(path)
        finally:
            os.waitpid(pid, 0)


def test_status_gives_up_on_a_bot_that_does_not_answer(
    path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wedged = threading.Event()

    def status() -> dict[str, Any]:
        wedged.wait(10)  # a bot stopped with SIGSTOP, or stuck
        return {"status": {"health": {"ready": True}}, "text": "late"}

    try:
        with _server(path, status=status):
            code = main(["status", "--socket", str(path), "--timeout", "0.2"])
    finally:
        wedged.set()
    assert code == 2
    assert capsys.readouterr().err == (
        f"perpsbot status: the bot at {path} did not answer within 0.2s\n"
    )


@pytest.mark.parametrize("typed", ["exit()", "quit", " exit "])
def test_exit_in_the_console_leaves_the_console_not_the_bot(
    server: ShellServer, path: Path, typed: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = path.parent.parent
    monkeypatch.setenv("HOME", str(home))  # the console keeps its history there
    monkeypatch.setattr("sys.stdin", io.StringIO(f"answer\n{typed}\nanswer + 1000\n"))
    out = io.StringIO()
    monkeypatch.setattr("sys.stdout", out)
    assert main(["shell", "--socket", str(path)]) == 0
    assert "42\n" in out.getvalue()
    assert "1042" not in out.getvalue()  # nothing after exit() ran
    assert "SystemExit" not in out.getvalue()
    with ShellClient(path) as client:
        assert client.run("answer") == ("42\n", False)  # the bot runs on
