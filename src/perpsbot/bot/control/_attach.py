"""Finding a running bot's shell socket from the command line.

The socket comes from ``--socket``, else from where a bot started with the same ``--config``
and ``--profile`` (and environment) keeps it: only ``journal.path`` and
``control.socket_path`` are read (:func:`~perpsbot.config.locate_bot`), so attaching needs
neither the bot's credentials nor an otherwise valid configuration.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from perpsbot.config import Profile, locate_bot
from perpsbot.control import ShellClient
from perpsbot.errors import ControlPlaneError, InvalidConfigError

__all__ = ["add_attach_options", "attach"]

_NAME_IT = "name the bot's socket with --socket PATH (perpsbot run prints it)"


def add_attach_options(parser: argparse.ArgumentParser) -> None:
    """``--socket``, or the ``--config``/``--profile`` the bot was started with."""
    parser.add_argument(
        "--socket", type=Path, help="the bot's shell socket (perpsbot run prints it)"
    )
    parser.add_argument(
        "--config", type=Path, help="the bot's TOML file, to find its socket (optional)"
    )
    parser.add_argument(
        "--profile", choices=[p.value for p in Profile], help="the bot's profile (default: dev)"
    )
    parser.add_argument(
        "--live",
        action="store_true",
        help="accepted as perpsbot run takes it; attaching needs neither it nor credentials",
    )


def _socket_from_args(args: argparse.Namespace) -> tuple[Path, str]:
    """``--socket``, else where a bot started with the same options has its socket; and, for
    messages, what said so.

    Raises:
        InvalidConfigError: the file named by ``--config`` cannot be read, or its
            ``journal.path`` or ``control.socket_path`` is not a path (the message says to
            name the socket with ``--socket``).
    """
    if args.socket is not None:
        return Path(args.socket), "--socket"
    try:
        location = locate_bot(args.config, profile=args.profile, env=os.environ)
    except InvalidConfigError as error:
        raise InvalidConfigError(f"{error}; or {_NAME_IT}") from None
    return location.socket, location.source


def attach(args: argparse.Namespace, *, reply_timeout_s: float | None = None) -> ShellClient:
    """A connection to the bot the options name.

    Raises:
        InvalidConfigError: the file named by ``--config`` cannot be read, or its
            ``journal.path`` or ``control.socket_path`` is not a path.
        ControlPlaneError: no bot answers there (the message names ``--socket``), or it
            refused this user.
    """
    path, source = _socket_from_args(args)
    if args.socket is None and not path.exists():
        raise ControlPlaneError(
            f"no perpsbot shell socket at {path}, where {source} puts it: is the bot running"
            f" with this configuration? Else {_NAME_IT}"
        )
    return ShellClient(path, reply_timeout_s=reply_timeout_s)
