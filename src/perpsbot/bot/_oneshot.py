"""What the one-shot venue commands (``perpsbot account``, ``perpsbot order``) share."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from perpsbot.bot._venue import describe_link, open_venue
from perpsbot.clock import SystemClock
from perpsbot.config import load_config
from perpsbot.venue import RestClient

__all__ = ["add_venue_options", "as_json", "rest_client"]


def add_venue_options(parser: argparse.ArgumentParser) -> None:
    """The options naming the venue: the same as ``perpsbot run``'s, and ``--json``."""
    parser.add_argument("--config", type=Path, help="TOML configuration file (optional)")
    parser.add_argument(
        "--profile", choices=["dev", "canary", "prod"], help="defaults to use (default: dev)"
    )
    parser.add_argument("--live", action="store_true", help="the real-money venue (canary, prod)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")


@contextlib.contextmanager
def rest_client(args: argparse.Namespace) -> Iterator[tuple[RestClient, str]]:
    """A REST client on the configured venue and where it points (an embedded exchange, if
    the configuration embeds one, runs only for this command).

    Raises:
        InvalidConfigError: the configuration is invalid.
    """
    config = load_config(args.config, profile=args.profile, env=os.environ, live=args.live)
    with contextlib.ExitStack() as stack:
        link = open_venue(config, SystemClock(), stack)
        client = link.rest_client()
        stack.callback(client.close)
        where = describe_link(link)
        if link.embedded is not None:
            where += " (started for this command: set venue URLs to reach a running one)"
        yield client, where


def as_json(value: Any) -> str:
    """Records (attrs instances) as indented JSON, Decimals as strings."""

    def plain(item: Any) -> Any:
        if isinstance(item, Decimal):
            return format(item, "f")
        if isinstance(item, Path):
            return str(item)
        raise TypeError(f"cannot show {type(item).__name__} as JSON")

    return json.dumps(_unattrs(value), indent=2, default=plain)


def _unattrs(value: Any) -> Any:
    if attrs.has(type(value)):
        return attrs.asdict(value, recurse=True)
    if isinstance(value, dict):
        return {key: _unattrs(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_unattrs(item) for item in value]
    return value
