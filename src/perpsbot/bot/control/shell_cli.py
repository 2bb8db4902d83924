"""``perpsbot shell``: attach a Python console to a running bot, or run one expression.

Python typed here runs inside the bot, with helpers bound (``help()`` lists them). Only the
bot's own user can attach: the socket is private (0600 in a 0700 directory) and the bot
checks every peer's uid (and this end checks the bot's). ``-c EXPR`` runs EXPR, prints
what it shows and exits 1 if it raised, 2 if the bot cannot be reached or goes away, for
scripts.
"""

from __future__ import annotations

import argparse
import sys

from perpsbot.bot.control._attach import add_attach_options, attach
from perpsbot.control import interact
from perpsbot.errors import ControlPlaneError, InvalidConfigError

__all__ = ["configure_parser", "run"]


def configure_parser(parser: argparse.ArgumentParser) -> None:
    add_attach_options(parser)
    parser.add_argument(
        "-c", dest="source", metavar="EXPR", help="run EXPR in the bot, print the result, exit"
    )


def run(args: argparse.Namespace) -> int:
    try:
        client = attach(args)
    except (InvalidConfigError, ControlPlaneError) as error:
        print(f"perpsbot shell: {error}", file=sys.stderr)
        return 2
    try:
        with client:
            if args.source is None:
                interact(client)
                return 0
            output, failed = client.run(args.source)
    except ControlPlaneError as error:  # the bot stopped while we were attached
        print(f"perpsbot shell: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "perpsbot shell: interrupted; the bot runs what it was given to the end",
            file=sys.stderr,
        )
        return 130
    (sys.stderr if failed else sys.stdout).write(output)
    return 1 if failed else 0
