"""``perpsbot journal``: print the trades, fills, PnL and trading-state changes of a journal.

The file is ``--journal FILE``, or the ``journal.path`` of a bot started with the same
``--config`` and ``--profile`` (and environment); only that key is read, so this needs neither
the bot's credentials nor an otherwise valid configuration. It is opened read-only, so this
works while the bot runs. ``--since`` takes a UTC date or time
(``2026-03-01``, ``2026-03-01T14:30``) or an age (``90m``, ``12h``, ``7d``); ``--json``
prints the same records for scripts. Exit status 1 means the journal could not be read, 2
that an argument or the configuration is invalid.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from perpsbot.clock import SystemClock
from perpsbot.config import Profile
from perpsbot.errors import InvalidConfigError, JournalError, JournalNotFoundError
from perpsbot.journal._reader import JournalReader
from perpsbot.journal._render import VIEWS, render_json, render_text

__all__ = ["configure_parser", "run"]

_AGE = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the view, the journal's location and the filters to the ``journal`` subcommand."""
    parser.add_argument(
        "view", nargs="?", choices=["all", *VIEWS], default="all", help="what to print"
    )
    parser.add_argument("--journal", type=Path, metavar="FILE", help="the journal file to read")
    parser.add_argument("--config", type=Path, help="TOML configuration naming journal.path")
    parser.add_argument("--profile", choices=[p.value for p in Profile], help="default: dev")
    parser.add_argument(
        "--live", action="store_true", help="accepted as perpsbot run takes it; not needed"
    )
    parser.add_argument("--since", metavar="WHEN", help="UTC date/time, or an age like 12h")
    parser.add_argument("--symbol", help="one product, e.g. BTC-USD")
    parser.add_argument("--json", action="store_true", help="JSON for scripts")


def run(args: argparse.Namespace) -> int:
    """Print the chosen view; returns the exit status."""
    try:
        path, source = _journal_path(args)
        since_ns = None if args.since is None else parse_since(args.since, SystemClock().now())
    except (InvalidConfigError, ValueError) as error:
        print(f"perpsbot journal: {error}", file=sys.stderr)
        return 2
    views = list(VIEWS) if args.view == "all" else [args.view]
    try:
        with JournalReader(path) as reader:
            records = {view: VIEWS[view](reader, since_ns, args.symbol) for view in views}
    except JournalNotFoundError as error:
        hint = "" if source is None else f" (where {source} puts it); name it with --journal FILE"
        print(f"perpsbot journal: {error}{hint}", file=sys.stderr)
        return 1
    except JournalError as error:
        print(f"perpsbot journal: {error}", file=sys.stderr)
        return 1
    header: dict[str, Any] = {"journal": str(path), "since_ns": since_ns, "symbol": args.symbol}
    if args.json:
        print(render_json(header, records))
    else:
        print(render_text(header, records), end="")
    return 0


def parse_since(text: str, now: datetime) -> int:
    """``--since`` as wall-clock nanoseconds: an ISO date or time (UTC unless it says
    otherwise) or an age before ``now`` like ``90m``, ``12h``, ``7d``.

    Raises:
        ValueError: naming what was expected and what was found.
    """
    age = _AGE.fullmatch(text.strip())
    if age:
        when = now - timedelta(**{_UNITS[age.group(2)]: float(age.group(1))})
    else:
        try:
            when = datetime.fromisoformat(text.strip())
        except ValueError:
            raise ValueError(
                "--since must be a UTC date or time like 2026-03-01 or 2026-03-01T14:30, or "
                f"an age like 90m, 12h or 7d, was {text!r}"
            ) from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
    return int(when.timestamp()) * 10**9 + when.microsecond * 1000


def _journal_path(args: argparse.Namespace) -> tuple[Path, str | None]:
    """``--journal``, else where the options' bot keeps it and what said so."""
    if args.journal is not None:
        return args.journal, None
    from perpsbot.config import locate_bot  # noqa: PLC0415  (only without --journal)

    try:
        location = locate_bot(args.config, profile=args.profile, env=os.environ)
    except InvalidConfigError as error:
        raise InvalidConfigError(f"{error}; or name the journal with --journal FILE") from None
    return location.journal, location.source
