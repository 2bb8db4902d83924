"""The ``perpsbot`` command.

Each subcommand lives in the package that owns it and exposes ``configure_parser(parser)``
and ``run(args) -> int``; this module only wires them together.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

__all__ = ["main"]

# subcommand -> (module, one-line help). Modules are imported lazily so that `perpsbot sim`
# does not pay for the actor runtime and `perpsbot run` does not pay for the exchange.
_SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "run": ("perpsbot.daemon", "run the bot (default profile: dev, on the embedded exchange)"),
    "sim": ("perpsbot.sim.cli", "run the simulated Coinbase exchange on loopback"),
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="perpsbot", description=__doc__.splitlines()[0])
    parser.add_argument("--log-level", default="INFO", help="logging level (default: INFO)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module_name, help_text) in _SUBCOMMANDS.items():
        module = importlib.import_module(module_name)
        module.configure_parser(sub.add_parser(name, help=help_text, description=help_text))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen subcommand; returns the process exit code."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    module = importlib.import_module(_SUBCOMMANDS[args.command][0])
    return int(module.run(args))
