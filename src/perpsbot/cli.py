"""The ``perpsbot`` command.

Each subcommand lives in the package that owns it and exposes ``configure_parser(parser)``
and ``run(args) -> int``; this module only wires them together. Only the chosen
subcommand's module is imported, so ``perpsbot sim`` does not pay for the actor runtime.
The global options (``--log-level``, ``--log-format``) go before or after the command.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from typing import Any, Protocol

from perpsbot import __version__

__all__ = ["main"]

# subcommand -> (module, one-line help)
_SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "run": ("perpsbot.daemon", "run the bot (default profile: dev, on the embedded exchange)"),
    "shell": ("perpsbot.control.shell_cli", "attach a Python console to a running bot"),
    "status": ("perpsbot.control.status_cli", "print a running bot's actors, feed and health"),
    "account": ("perpsbot.bot.account_cli", "print balances, positions and fee tier at the venue"),
    "order": ("perpsbot.bot.order_cli", "preview an order at the venue (nothing is placed)"),
    "sim": ("perpsbot.sim.cli", "run the simulated Coinbase exchange on loopback"),
    "config": ("perpsbot.config.cli", "check, show or diff configuration files"),
    "journal": ("perpsbot.journal.cli", "print the trades, fills, PnL and states of a journal"),
}


_HELP = "this list, or one command's options (perpsbot help run)"


class _Options(Protocol):
    """A parser or an argument group."""

    def add_argument(self, *names: str, **options: Any) -> Any: ...


def _add_global_options(parser: _Options, *, shown_defaults: bool) -> None:
    default_level = "INFO" if shown_defaults else argparse.SUPPRESS
    default_format = "auto" if shown_defaults else argparse.SUPPRESS
    parser.add_argument("--log-level", default=default_level, help="logging level (default: INFO)")
    parser.add_argument(
        "--log-format",
        choices=("auto", "text", "json"),
        default=default_format,
        help="log lines as text or as JSON lines (default: JSON when stderr is not a terminal)",
    )


def _top_parser() -> argparse.ArgumentParser:
    listed = {**{name: help_ for name, (_, help_) in _SUBCOMMANDS.items()}, "help": _HELP}
    commands = "\n".join(f"  {name:<8} {help_}" for name, help_ in listed.items())
    parser = argparse.ArgumentParser(
        prog="perpsbot",
        usage="perpsbot [--log-level LEVEL] [--log-format FORMAT] COMMAND [OPTIONS]",
        description="A perpetual-futures trading bot for Coinbase Advanced Trade.",
        epilog=f"commands:\n{commands}\n\n'perpsbot COMMAND --help' describes one command.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        add_help=False,
        allow_abbrev=False,
    )
    parser.add_argument("-h", "--help", action="store_true", help="show this help and exit")
    parser.add_argument("--version", action="version", version=f"perpsbot {__version__}")
    _add_global_options(parser, shown_defaults=True)
    # Listed in the epilog with one line each; argparse's own listing would say "arguments".
    parser.add_argument(
        "command",
        nargs="?",
        choices=[*_SUBCOMMANDS, "help"],
        metavar="COMMAND",
        help=argparse.SUPPRESS,
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen subcommand; returns the process exit code."""
    top_parser = _top_parser()
    # Known options anywhere (so global options may follow the command); the rest, in
    # order, belongs to the subcommand.
    top, rest = top_parser.parse_known_args(sys.argv[1:] if argv is None else list(argv))
    if top.command == "help":  # perpsbot help [COMMAND]: what --help says
        if rest and rest[0] in _SUBCOMMANDS:
            top.command, top.help, rest = rest[0], True, []
        elif rest:
            top_parser.error(f"help: no command {rest[0]!r}; 'perpsbot help' lists them")
        else:
            top.command, top.help = None, True
    if top.command is None:
        if rest:
            top_parser.error(f"unrecognized options before the command: {' '.join(rest)}")
        top_parser.print_help(sys.stdout if top.help else sys.stderr)
        return 0 if top.help else 2
    module_name, help_text = _SUBCOMMANDS[top.command]
    module = importlib.import_module(module_name)
    parser = argparse.ArgumentParser(prog=f"perpsbot {top.command}", description=help_text)
    module.configure_parser(parser)
    _add_global_options(parser.add_argument_group("global options"), shown_defaults=False)
    args = parser.parse_args((["--help"] if top.help else []) + rest)
    _configure_logging(top.log_level, top.log_format)
    return int(module.run(args))


def _configure_logging(level: str, log_format: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_log_formatter(log_format))
    logging.basicConfig(level=level.upper(), handlers=[handler])
    # The websockets server logs every connection at INFO, with object reprs: not news.
    websockets_level = logging.DEBUG if level.upper() == "DEBUG" else logging.WARNING
    logging.getLogger("websockets").setLevel(websockets_level)


def _log_formatter(choice: str) -> logging.Formatter:
    """Text for a person at a terminal; JSON lines (``ts``, ``level``, ``logger``,
    ``message``, ``exc_info`` and any ``extra``) for a log collector."""
    if choice == "json" or (choice == "auto" and not sys.stderr.isatty()):
        from pythonjsonlogger.json import JsonFormatter  # noqa: PLC0415  (only when used)

        return JsonFormatter(
            "%(levelname)s %(name)s %(message)s",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp="ts",
        )
    return logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
