"""``perpsbot status``: a running bot's actor tree, feed, health and configuration file.

For each actor: state, incarnation, restarts, mailbox depth, dead letters and the time since
it last handled a message. ``--json`` prints the same as one JSON document, for scripts.
Exit status 0 when the bot is ready, 1 when it answers but is not ready, 2 when it cannot be
reached or does not answer within ``--timeout``.
"""

from __future__ import annotations

import argparse
import json
import sys

from perpsbot._args import positive_seconds
from perpsbot.bot.control._attach import add_attach_options, attach
from perpsbot.errors import ControlPlaneError, InvalidConfigError

__all__ = ["configure_parser", "run"]


def configure_parser(parser: argparse.ArgumentParser) -> None:
    add_attach_options(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument(
        "--timeout",
        type=positive_seconds,
        default=30.0,
        metavar="SECONDS",
        help="give up on a bot that does not answer within this long (default: 30)",
    )


def run(args: argparse.Namespace) -> int:
    try:
        with attach(args, reply_timeout_s=args.timeout) as client:
            reply = client.status()
    except (InvalidConfigError, ControlPlaneError) as error:
        print(f"perpsbot status: {error}", file=sys.stderr)
        return 2
    status = reply["status"]
    print(json.dumps(status, indent=2) if args.json else reply["text"])
    return 0 if status["health"]["ready"] else 1
