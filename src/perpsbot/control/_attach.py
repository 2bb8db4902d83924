"""Finding a running bot's shell socket from the command line."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from perpsbot.config import load_config
from perpsbot.control._plane import socket_path

__all__ = ["add_attach_options", "socket_from_args"]


def add_attach_options(parser: argparse.ArgumentParser) -> None:
    """``--socket``, or the ``--config``/``--profile``/``--live`` the bot was started with."""
    parser.add_argument(
        "--socket", type=Path, help="the bot's shell socket (perpsbot run prints it)"
    )
    parser.add_argument(
        "--config", type=Path, help="the bot's TOML file, to find its socket (optional)"
    )
    parser.add_argument(
        "--profile", choices=["dev", "canary", "prod"], help="the bot's profile (default: dev)"
    )
    parser.add_argument(
        "--live", action="store_true", help="the bot's profile trades real money (canary, prod)"
    )


def socket_from_args(args: argparse.Namespace) -> Path:
    """``--socket``, else where a bot started with the same options has its socket.

    Raises:
        InvalidConfigError: the configuration named by the options is invalid.
    """
    if args.socket is not None:
        return Path(args.socket)
    config = load_config(args.config, profile=args.profile, env=os.environ, live=args.live)
    return socket_path(config)
