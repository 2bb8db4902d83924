"""The ``perpsbot`` command.

Each subcommand lives in the package that owns it and exposes ``configure_parser(parser)``
and ``run(args) -> int``; this module only wires them together. Only the chosen
subcommand's module is imported, so ``perpsbot sim`` does not pay for the actor runtime.
The global options (``--log-level``, ``--log-format``) go before or after the command.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import os
import select
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

from perpsbot import __version__

__all__ = ["EXIT_BROKEN_PIPE", "EXIT_INTERRUPTED", "main"]

#: Exit codes as a shell reports a command killed by SIGINT or SIGPIPE (128 + the signal).
EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 130, 141

# subcommand -> (module, one-line help)
_SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "run": ("perpsbot.daemon", "run the bot (default profile: dev, on the embedded exchange)"),
    "shell": ("perpsbot.bot.control.shell_cli", "attach a Python console to a running bot"),
    "status": ("perpsbot.bot.control.status_cli", "print a running bot's actors, feed and health"),
    "account": ("perpsbot.bot.account_cli", "print balances, positions and fee tier at the venue"),
    "order": ("perpsbot.bot.order_cli", "preview an order at the venue (nothing is placed)"),
    "sim": ("perpsbot.sim.cli", "run the simulated Coinbase exchange on loopback"),
    "config": ("perpsbot.config.cli", "check, show or diff configuration files"),
    "journal": ("perpsbot.journal.cli", "print the trades, fills, PnL and states of a journal"),
    "data": ("perpsbot.data.cli", "download the venue's candles into a local store"),
    "record": ("perpsbot.data.record_cli", "record the market-data feed to a file, no trading"),
    "backtest": ("perpsbot.backtest.cli", "run the bot over stored candles, faster than real time"),
}


_HELP = "this list, or one command's options (perpsbot help run)"


class _Options(Protocol):
    """A parser or an argument group."""

    def add_argument(self, *names: str, **options: Any) -> Any: ...


_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _level(text: str) -> str:
    if text.upper() not in _LEVELS:
        raise argparse.ArgumentTypeError(
            f"must be one of {', '.join(_LEVELS)} (any case), was {text!r}"
        )
    return text.upper()


def _add_global_options(parser: _Options, *, shown_defaults: bool) -> None:
    default_level = "INFO" if shown_defaults else argparse.SUPPRESS
    default_format = "auto" if shown_defaults else argparse.SUPPRESS
    parser.add_argument(
        "--log-level",
        type=_level,
        metavar="LEVEL",
        default=default_level,
        help=f"logging level, one of {', '.join(_LEVELS)} (default: INFO)",
    )
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
    """Parse ``argv`` and run the chosen subcommand; returns the process exit code.

    Ordinary mistakes and interruptions end with one line, never a traceback: a reader of
    stdout that goes away (``| head``) ends the command quietly with 141, as SIGPIPE would;
    Ctrl-C ends a command with 130, and ``run`` with 0 at any time (SIGTERM too), even while
    its modules are still loading.
    """
    command: str | None = None
    try:
        parsed = _parse(sys.argv[1:] if argv is None else list(argv))
        if isinstance(parsed, int):
            return parsed  # the command list was printed
        command, run = parsed
        with _interruptible(command):
            code = run()
        sys.stdout.flush()  # a reader gone is found here, not in the interpreter's last flush
        return code
    except KeyboardInterrupt:
        if command == "run":
            print("perpsbot run: stopped while starting (interrupted)", file=sys.stderr)
            return 0
        print(
            f"perpsbot {command}: interrupted" if command else "perpsbot: interrupted",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        if not _stdout_gone():
            raise
        return EXIT_BROKEN_PIPE


def _parse(argv: list[str]) -> tuple[str, Callable[[], int]] | int:
    """The command and what runs it, or the exit code once only the command list was
    printed (0 if asked for, 2 for no command)."""
    top_parser = _top_parser()
    # Known options anywhere (so global options may follow the command); the rest, in
    # order, belongs to the subcommand.
    top, rest = top_parser.parse_known_args(argv)
    if top.command == "help":  # perpsbot help [COMMAND [ACTION]]: what --help says
        if rest and rest[0] in _SUBCOMMANDS:
            top.command, top.help, rest = rest[0], True, rest[1:]
        elif rest:
            top_parser.error(f"help: no command {rest[0]!r}; 'perpsbot help' lists them")
        else:
            top.command, top.help = None, True
    if top.command is None:
        if rest:
            top_parser.error(f"unrecognized options before the command: {' '.join(rest)}")
        top_parser.print_help(sys.stdout if top.help else sys.stderr)
        return 0 if top.help else 2
    command: str = top.command

    def run() -> int:
        module_name, help_text = _SUBCOMMANDS[command]
        module = importlib.import_module(module_name)
        parser = argparse.ArgumentParser(prog=f"perpsbot {command}", description=help_text)
        module.configure_parser(parser)
        _add_global_options(parser.add_argument_group("global options"), shown_defaults=False)
        args = parser.parse_args(_asking_help(rest) if top.help else rest)
        _configure_logging(top.log_level, top.log_format)
        return int(module.run(args))

    return command, run


@contextlib.contextmanager
def _interruptible(command: str) -> Iterator[None]:
    """For ``run``, SIGTERM interrupts like Ctrl-C until the daemon takes the signals over
    (its modules take a while to load); the handler found is put back after."""
    if command != "run" or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _stdout_gone() -> bool:
    """True if stdout's reader went away (a pipe's reader closed it: the pipe reports an
    error); stdout then goes to /dev/null, so the interpreter's last flush is quiet too."""
    try:
        fd = sys.stdout.fileno()
    except (OSError, ValueError):
        return False  # not a file (replaced): the broken pipe was another one
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    if not any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0)):
        return False
    os.dup2(os.open(os.devnull, os.O_WRONLY), fd)
    return True


def _asking_help(rest: list[str]) -> list[str]:
    """``rest`` with ``--help`` after its leading words (``preview BTC-USD buy`` of ``order``,
    ``check`` of ``config``): the innermost action they name prints its own help, before
    any option is read."""
    words = next((i for i, arg in enumerate(rest) if arg.startswith("-")), len(rest))
    return [*rest[:words], "--help", *rest[words:]]


def _configure_logging(level: str, log_format: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_log_formatter(log_format))
    logging.basicConfig(level=level, handlers=[handler])
    # The websockets server logs every connection at INFO, with object reprs: not news.
    websockets_level = logging.DEBUG if level == "DEBUG" else logging.WARNING
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
