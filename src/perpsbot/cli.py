"""The ``perpsbot`` command.

Each subcommand lives in the package that owns it and exposes ``configure_parser(parser)``
and ``run(args) -> int``; this module only wires them together. Only the chosen
subcommand's module is imported, so ``perpsbot sim`` does not pay for the actor runtime.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

__all__ = ["main"]

# subcommand -> (module, one-line help)
_SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "run": ("perpsbot.daemon", "run the bot (default profile: dev, on the embedded exchange)"),
    "sim": ("perpsbot.sim.cli", "run the simulated Coinbase exchange on loopback"),
    "config": ("perpsbot.config.cli", "check, show or diff configuration files"),
    "journal": ("perpsbot.journal.cli", "print the trades, fills, PnL and states of a journal"),
}


def _top_parser() -> argparse.ArgumentParser:
    commands = "\n".join(f"  {name:<8} {help_}" for name, (_, help_) in _SUBCOMMANDS.items())
    parser = argparse.ArgumentParser(
        prog="perpsbot",
        description="A perpetual-futures trading bot for Coinbase Advanced Trade.",
        epilog=f"commands:\n{commands}\n\n'perpsbot COMMAND --help' describes one command.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--log-level", default="INFO", help="logging level (default: INFO)")
    parser.add_argument(
        "--log-format",
        choices=("auto", "text", "json"),
        default="auto",
        help="log lines as text or as JSON lines (default: JSON when stderr is not a terminal)",
    )
    parser.add_argument("command", choices=list(_SUBCOMMANDS), metavar="COMMAND")
    parser.add_argument("arguments", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen subcommand; returns the process exit code."""
    top = _top_parser().parse_args(argv)
    module_name, help_text = _SUBCOMMANDS[top.command]
    module = importlib.import_module(module_name)
    parser = argparse.ArgumentParser(prog=f"perpsbot {top.command}", description=help_text)
    module.configure_parser(parser)
    args = parser.parse_args(top.arguments)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_log_formatter(top.log_format))
    logging.basicConfig(level=top.log_level.upper(), handlers=[handler])
    return int(module.run(args))


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
