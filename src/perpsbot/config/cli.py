"""``perpsbot config``: check, show and diff configuration files without running the bot.

``check`` validates and prints nothing but ``ok``; ``show`` prints the effective configuration
as TOML (never the credentials); both take the file as ``--config FILE``, like every other
command (or as their one argument). ``diff OLD NEW`` prints the sections and keys that differ,
which are what a reload from OLD to NEW would restart or apply live. All three read the same
environment variables as ``perpsbot run``. Exit status 2 means the configuration is invalid.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from perpsbot.config._bot import BotConfig, Profile
from perpsbot.config._diff import diff_config
from perpsbot.config._loader import load_config
from perpsbot.config._render import render_toml
from perpsbot.errors import InvalidConfigError

__all__ = ["configure_parser", "run"]


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the ``check``, ``show`` and ``diff`` actions to the ``config`` subcommand."""
    actions = parser.add_subparsers(dest="config_action", required=True, metavar="ACTION")
    for name, help_text in (
        ("check", "validate a configuration and exit 0 if it loads"),
        ("show", "print the effective configuration as TOML, without secrets"),
    ):
        action = actions.add_parser(name, help=help_text, description=help_text)
        action.add_argument(
            "--config", type=Path, help="TOML configuration (default: none, profile defaults)"
        )
        action.add_argument(
            "file", nargs="?", type=Path, metavar="FILE", help="the same as --config FILE"
        )
        _add_common(action)
    diff = actions.add_parser("diff", help="print what differs between two configuration files")
    diff.add_argument("old", type=Path, help="the running (or previous) TOML file")
    diff.add_argument("new", type=Path, help="the TOML file a reload would read")
    _add_common(diff)


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--profile", choices=[p.value for p in Profile], default=None, help="default: dev"
    )
    parser.add_argument("--live", action="store_true", help="confirm a real-money profile")


def run(args: argparse.Namespace) -> int:
    """Run the chosen action; returns 0, or 2 with the message on stderr if a config is invalid."""
    try:
        if args.config_action == "diff":
            print(diff_config(_load(args.old, args), _load(args.new, args)).render())
        elif args.config_action == "show":
            print(render_toml(_load(_file(args), args)), end="")
        else:
            _load(_file(args), args)
            print("ok")
    except InvalidConfigError as error:
        print(f"perpsbot config: {error}", file=sys.stderr)
        return 2
    return 0


def _file(args: argparse.Namespace) -> Path | None:
    """``--config FILE`` or the positional FILE (one of them, or the same twice)."""
    if args.config is not None and args.file is not None and args.config != args.file:
        raise InvalidConfigError(
            f"config {args.config_action} takes one file, as --config FILE or as FILE; was"
            f" given both '{args.config}' and '{args.file}'"
        )
    path: Path | None = args.config if args.config is not None else args.file
    return path


def _load(path: Path | None, args: argparse.Namespace) -> BotConfig:
    return load_config(path, profile=args.profile, env=os.environ, live=args.live)
