"""The shell's Unix socket in the daemon: private directory, 0600 socket, peer uid checked.

Anyone who can talk to this socket runs arbitrary Python inside the bot, which is what an
operator expects of a REPL. The boundary is the peer's uid: the socket lives in a directory
only the bot's user may enter (0700), the socket itself is 0600, and every connection's
credentials are read from the kernel (``SO_PEERCRED``) and refused unless they carry the
bot's own uid. Linux only.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import stat
import struct
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs

from perpsbot.control import _protocol as protocol
from perpsbot.control._listener import Listener
from perpsbot.control._session import Session
from perpsbot.errors import ControlPlaneError

__all__ = ["Peer", "ShellServer", "peer_of", "prepare_private_dir"]

logger = logging.getLogger("perpsbot.control.shell")

_MAX_UNIX_PATH_BYTES = 107  # sockaddr_un.sun_path is 108 bytes with its NUL


@attrs.frozen
class Peer:
    """The process at the other end of a Unix socket, as the kernel reports it."""

    pid: int
    uid: int
    gid: int

    def __str__(self) -> str:
        return f"uid={self.uid} pid={self.pid}"


def peer_of(connection: socket.socket) -> Peer:
    """The credentials of ``connection``'s peer (``SO_PEERCRED``)."""
    raw = connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    pid, uid, gid = struct.unpack("3i", raw)
    return Peer(pid=pid, uid=uid, gid=gid)


def prepare_private_dir(directory: Path) -> None:
    """Create ``directory`` (0700) or check that it is one only this user may enter.

    Raises:
        ControlPlaneError: it cannot be created, is not a directory, belongs to another user
            or is open to others (it is never loosened or tightened: it may not be ours to
            change).
    """
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = os.lstat(directory)
    except OSError as error:  # a file in the way, a read-only or missing parent
        raise ControlPlaneError(
            f"the shell socket's directory {directory} could not be created"
            f" ({error.strerror or error}); set control.socket_path or journal.path"
        ) from None
    uid = os.geteuid()
    if not stat.S_ISDIR(info.st_mode):
        raise ControlPlaneError(f"the shell socket's directory {directory} must be a directory")
    if info.st_uid != uid or info.st_mode & 0o077:
        raise ControlPlaneError(
            f"the shell socket's directory {directory} must be private (mode 0700, owned by"
            f" uid {uid}), was mode {stat.S_IMODE(info.st_mode):04o} owned by uid"
            f" {info.st_uid}; point control.socket_path into a directory of its own"
        )


def _clear_stale(path: Path) -> None:
    """Remove a socket left by a bot that died; refuse if a bot still answers on it."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(info.st_mode):
        raise ControlPlaneError(f"the shell socket {path} exists and is not a socket")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(2.0)
    try:
        probe.connect(str(path))
    except (ConnectionRefusedError, FileNotFoundError):
        path.unlink(missing_ok=True)  # nobody listens: left behind by a bot that died
        return
    except OSError as error:  # no permission, or a listener that never accepts
        raise ControlPlaneError(
            f"the shell socket {path} exists and it cannot be told whether a bot listens on"
            f" it ({error.strerror or error}); stop that bot, or remove the socket"
        ) from None
    finally:
        probe.close()
    raise ControlPlaneError(
        f"another perpsbot is running with the shell socket {path}; stop it first, or give"
        " this one its own control.socket_path (or journal.path)"
    )


class ShellServer:
    """Serves shell sessions on the Unix socket at ``path``.

    Args:
        path: the socket; its directory is created private (0700) if missing.
        open_session: a new session for each accepted peer.
        status: the reply to a status request (``{"status": {...}, "text": "..."}``).
        hello: sent to each accepted client first (version, pid, helper names...).
        allowed_uid: the only uid let in (default: this process's effective uid).
    """

    def __init__(
        self,
        path: Path,
        *,
        open_session: Callable[[Peer], Session],
        status: Callable[[], dict[str, Any]],
        hello: Mapping[str, Any],
        allowed_uid: int | None = None,
    ) -> None:
        self.path = path
        self._open_session = open_session
        self._status = status
        self._hello = dict(hello)
        self.allowed_uid = os.geteuid() if allowed_uid is None else allowed_uid
        self._listener: Listener | None = None
        self._inode: int | None = None
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        """Create the socket (0600) and start accepting.

        Raises:
            ControlPlaneError: the path is too long, its directory is not private, or another
                bot is listening on it.
        """
        if len(os.fsencode(self.path)) > _MAX_UNIX_PATH_BYTES:
            raise ControlPlaneError(
                f"the shell socket path must be at most {_MAX_UNIX_PATH_BYTES} bytes, was"
                f" {len(os.fsencode(self.path))} ({self.path}); set a shorter"
                " control.socket_path"
            )
        prepare_private_dir(self.path.parent)
        _clear_stale(self.path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(str(self.path))
            os.chmod(self.path, 0o600)  # the 0700 directory guards the moment before this
            sock.listen(8)
        except OSError as error:
            sock.close()
            raise ControlPlaneError(
                f"the shell socket {self.path} could not be opened: {error}"
            ) from error
        self._inode = os.lstat(self.path).st_ino
        self._listener = Listener(sock, self._accepted, name="perpsbot-shell")
        self._listener.start()

    def close(self) -> None:
        """Stop accepting, end open sessions and remove the socket."""
        if self._listener is not None:
            self._listener.close()
        with self._lock:
            connections, self._connections = set(self._connections), set()
        for connection in connections:
            with contextlib.suppress(OSError):  # the client may have hung up already
                connection.shutdown(socket.SHUT_RDWR)  # the session thread sees the end
        try:
            if os.lstat(self.path).st_ino == self._inode:
                self.path.unlink()
        except FileNotFoundError:
            pass  # removed by hand, or never created

    def __enter__(self) -> ShellServer:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- connections -----------------------------------------------------------------------

    def _accepted(self, connection: socket.socket, _address: Any) -> None:
        peer = peer_of(connection)
        if peer.uid != self.allowed_uid:
            logger.warning(
                "refused a shell connection from %s: only uid %d may attach",
                peer,
                self.allowed_uid,
            )
            with connection, connection.makefile("wb") as stream:
                protocol.send(stream, {"refused": f"only uid {self.allowed_uid} may attach"})
            return
        with self._lock:
            self._connections.add(connection)
        thread = threading.Thread(
            target=self._converse,
            args=(connection, peer),
            name=f"perpsbot-shell-{peer.pid}",
            daemon=True,
        )
        thread.start()

    def _converse(self, connection: socket.socket, peer: Peer) -> None:
        logger.debug("shell session opened by %s", peer)
        try:
            with connection, connection.makefile("rwb") as stream:
                session = self._open_session(peer)
                protocol.send(stream, {"hello": self._hello})
                while (request := protocol.receive(stream)) is not None:
                    reply = self._answer(session, request)
                    if "id" in request:
                        reply["id"] = request["id"]
                    protocol.send(stream, reply)
        except (OSError, protocol.ShellProtocolError) as error:
            logger.debug("shell session of %s ended: %s", peer, error)
        finally:
            with self._lock:
                self._connections.discard(connection)
        logger.debug("shell session closed by %s", peer)

    def _answer(self, session: Session, request: dict[str, Any]) -> dict[str, Any]:
        match request.get("op"):
            case "run":
                output, failed = session.run(str(request.get("source", "")))
                return {"output": output, "failed": failed}
            case "complete":
                return {"matches": session.complete(str(request.get("text", "")))}
            case "status":
                try:
                    return self._status()
                except Exception as error:
                    # Reported to the client and logged; the session carries on.
                    logger.exception("building the status failed")
                    return {"error": f"the status could not be built: {error!r}"}
            case other:
                return {"error": f"op must be 'run', 'complete' or 'status', was {other!r}"}
