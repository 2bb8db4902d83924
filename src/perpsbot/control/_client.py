"""The client end of the shell: a connection to a running bot, and an interactive console.

The console edits lines, keeps history and completes names locally (``readline``); each
complete statement runs in the daemon, and tab completion asks the daemon's namespace.
"""

from __future__ import annotations

import code
import codeop
import contextlib
import itertools
import os
import socket
import sys
from pathlib import Path
from typing import Any

from perpsbot._paths import shown
from perpsbot.control import _protocol as protocol
from perpsbot.control._server import peer_of
from perpsbot.errors import ControlPlaneError

__all__ = ["ShellClient", "interact"]

_HISTORY = Path("~/.perpsbot_history")
_LEAVE = frozenset({"exit", "exit()", "quit", "quit()"})  # in the bot, they would raise there


class ShellClient:
    """A connection to the shell socket of a running bot.

    The bot checks this end's uid; this end checks the bot's too: a socket that another
    user's process listens on (root's excepted) is not our bot, whatever its path says, and
    is left before anything is sent to it.

    Raises:
        ControlPlaneError: nothing listens at ``path``, another user's process does, or the
            bot refused this user.
    """

    def __init__(
        self, path: Path, *, connect_timeout_s: float = 5.0, reply_timeout_s: float | None = None
    ) -> None:
        self.path = path
        self._reply_timeout_s = reply_timeout_s
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._socket.settimeout(connect_timeout_s)
        try:
            self._socket.connect(str(path))
        except OSError as error:
            self._socket.close()
            raise ControlPlaneError(
                f"no perpsbot answers at {shown(path)} ({error.strerror or error}); is the bot"
                " running with this configuration? (perpsbot run prints its socket; name it"
                " with --socket PATH)"
            ) from error
        server = peer_of(self._socket)
        if server.uid not in (os.geteuid(), 0):
            self._socket.close()
            raise ControlPlaneError(
                f"the shell socket {shown(path)} must belong to a bot of this user (uid"
                f" {os.geteuid()}) or root, was served by {server}; nothing was sent to it"
            )
        # By default none: a reload may take a while, and the user can interrupt.
        self._socket.settimeout(reply_timeout_s)
        self._stream = self._socket.makefile("rwb")
        self._request_ids = itertools.count(1)
        first = self._receive()
        if "refused" in first:
            self.close()
            raise ControlPlaneError(
                f"the bot at {shown(path)} refused the connection: {first['refused']}"
            )
        self.hello: dict[str, Any] = first.get("hello", {})

    def run(self, source: str) -> tuple[str, bool]:
        """Run ``source`` in the bot; returns its output and whether it raised."""
        reply = self._ask({"op": "run", "source": source})
        return str(reply.get("output", "")), bool(reply.get("failed", False))

    def complete(self, text: str) -> list[str]:
        """Completions of ``text`` in the session's namespace."""
        return [str(m) for m in self._ask({"op": "complete", "text": text}).get("matches", [])]

    def status(self) -> dict[str, Any]:
        """``{"status": {...}, "text": "..."}``: the document and its text rendering."""
        return self._ask({"op": "status"})

    def close(self) -> None:
        with contextlib.suppress(OSError):  # a request left unsent to a bot that went away
            self._stream.close()
        self._socket.close()

    def __enter__(self) -> ShellClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _ask(self, request: dict[str, Any]) -> dict[str, Any]:
        """Send ``request`` and return its answer.

        An interrupt (Ctrl-C) while waiting leaves the bot running the request; its answer
        is read and dropped before the next request's, which therefore waits for it: each
        request carries an id that its answer repeats.
        """
        request_id = next(self._request_ids)
        try:
            protocol.send(self._stream, {**request, "id": request_id})
        except OSError as error:
            raise ControlPlaneError(f"the bot at {self.path} closed the connection") from error
        reply = self._receive()
        while reply.pop("id", request_id) != request_id:  # an interrupted request's answer
            reply = self._receive()
        if "error" in reply:
            raise ControlPlaneError(f"the bot answered: {reply['error']}")
        return reply

    def _receive(self) -> dict[str, Any]:
        try:
            reply = protocol.receive(self._stream)
        except TimeoutError as error:
            self.close()  # an answer may still come: the connection cannot be reused
            raise ControlPlaneError(
                f"the bot at {self.path} did not answer within {self._reply_timeout_s}s"
            ) from error
        except OSError as error:
            raise ControlPlaneError(f"the bot at {self.path} closed the connection") from error
        if reply is None:
            raise ControlPlaneError(f"the bot at {self.path} closed the connection")
        return reply


class _RemoteConsole(code.InteractiveConsole):
    """``code.InteractiveConsole`` whose complete statements run in the bot."""

    def __init__(self, client: ShellClient) -> None:
        super().__init__(filename="<shell>")
        self._client = client

    def runsource(self, source: str, filename: str = "<shell>", symbol: str = "single") -> bool:
        if source.strip() in _LEAVE:
            raise SystemExit  # leave the console, as in Python's own; the bot runs on
        try:
            if codeop.compile_command(source, filename, symbol) is None:
                return True  # more input needed
        except (OverflowError, SyntaxError, ValueError):
            pass  # complete but invalid: the bot reports the error the way Python does
        try:
            output, _ = self._client.run(source)
        except KeyboardInterrupt:
            output = "KeyboardInterrupt: the bot runs it to the end; the next input waits\n"
        self.write(output)
        return False

    def write(self, data: str) -> None:
        sys.stdout.write(data)
        sys.stdout.flush()


def interact(client: ShellClient) -> None:
    """Run an interactive console against ``client`` until end of input (Ctrl-D)."""
    try:
        import readline  # noqa: PLC0415 (optional: absent on some builds)
    except ImportError:
        readline = None  # type: ignore[assignment]
    history = _HISTORY.expanduser()
    if readline is not None:
        matches: list[str] = []

        def complete(text: str, state: int) -> str | None:
            nonlocal matches
            if state == 0:
                matches = client.complete(text) if text.strip() else []
            return matches[state] if state < len(matches) else None

        readline.set_completer(complete)
        readline.set_completer_delims(" \t\n`~!@#$%^&*()-=+[{]}\\|;:'\",<>/?")
        readline.parse_and_bind("tab: complete")
        if history.exists():
            readline.read_history_file(history)
    hello = client.hello
    banner = (
        f"perpsbot {hello.get('version', '?')} shell, profile {hello.get('profile', '?')},"
        f" attached to {client.path} (pid {hello.get('pid', '?')}).\n"
        "Python runs inside the bot. help() lists the helpers; Ctrl-D leaves."
    )
    try:
        _RemoteConsole(client).interact(banner=banner, exitmsg="")
    except SystemExit:
        pass  # exit() or quit(): the console ends here, as at Ctrl-D
    finally:
        if readline is not None:
            readline.write_history_file(history)
            os.chmod(history, 0o600)
