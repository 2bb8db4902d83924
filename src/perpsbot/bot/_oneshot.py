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

from perpsbot.bot._global import GLOBAL_HTTP_URL, GlobalVenue, start_global_gateway
from perpsbot.bot._paper import open_paper_account, paper_dir, paper_key, throwaway_key
from perpsbot.bot._venue import describe_link, embeds_sim, open_venue, venue_credentials
from perpsbot.clock import SystemClock
from perpsbot.config import BotConfig, Profile, global_endpoints, load_config
from perpsbot.errors import SimStateError
from perpsbot.venue import RestClient

__all__ = ["add_venue_options", "as_json", "global_venue", "rest_client", "venue_config"]


def add_venue_options(parser: argparse.ArgumentParser) -> None:
    """The options naming the venue: the same as ``perpsbot run``'s, and ``--json``."""
    parser.add_argument("--config", type=Path, help="TOML configuration file (optional)")
    parser.add_argument(
        "--profile", choices=[p.value for p in Profile], help="defaults to use (default: dev)"
    )
    parser.add_argument("--live", action="store_true", help="the real-money venue (canary, prod)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")


def venue_config(args: argparse.Namespace) -> BotConfig:
    """The configuration the options name.

    Raises:
        InvalidConfigError: the configuration is invalid.
    """
    return load_config(args.config, profile=args.profile, env=os.environ, live=args.live)


@contextlib.contextmanager
def global_venue(config: BotConfig) -> Iterator[tuple[GlobalVenue, str]]:
    """The Global Derivatives gateway of ``config`` (``venue.kind = "global"``) and where it
    answers, for people: the configured gateway (``venue.global_*``, or with ``--live``
    Coinbase's), else the paper account's embedded one: the running bot's gateway, or one
    started here on the account as the last run left it.

    Raises:
        InvalidConfigError: a live gateway without credentials.
        SimStateError: there is no paper account yet, it cannot be read, or the running
            bot's exchange has not said where its gateway answers.
    """
    clock = SystemClock()
    endpoints = global_endpoints(config.venue, live=config.live)
    if endpoints is not None:
        venue = GlobalVenue(
            http_url=endpoints.http_url, trading_ws_url=endpoints.trading_ws_url,
            streams_ws_url=endpoints.streams_ws_url, credentials=venue_credentials(config),
            clock=clock, request_timeout_s=config.venue.request_timeout_s,
        )  # fmt: skip
        yield venue, f"Global Derivatives gateway {endpoints.http_url}"
        return
    # Imported here: a bot on Coinbase never loads the simulator.
    from perpsbot.sim import SimExchange, StateDirectory  # noqa: PLC0415

    with contextlib.ExitStack() as stack:
        link, where = open_paper_account(config, clock, stack)
        sim = link.embedded
        if isinstance(sim, SimExchange):  # started here, read-only, without checking keys
            http_url = start_global_gateway(sim, stack).http_url
            credentials = throwaway_key()[0]
        else:
            directory = StateDirectory(paper_dir(config))
            published = (directory.endpoint() or {}).get(GLOBAL_HTTP_URL)
            if not isinstance(published, str):
                raise SimStateError(
                    f"the exchange running on the paper account {directory.path} has not said"
                    f" where its Global Derivatives gateway answers ({GLOBAL_HTTP_URL} in"
                    f" {directory.endpoint_file}); try again once the bot has started"
                )
            http_url, credentials = published, paper_key(directory.path)[0]
        venue = GlobalVenue(
            http_url=http_url, credentials=credentials, clock=clock,
            request_timeout_s=config.venue.request_timeout_s,
        )  # fmt: skip
        yield venue, f"{where}; Global Derivatives gateway {http_url}"


@contextlib.contextmanager
def rest_client(args: argparse.Namespace) -> Iterator[tuple[RestClient, str]]:
    """A REST client on the configured venue and where it points, for people. A
    configuration that embeds the simulated exchange (``dev``) reaches its paper account:
    the running bot's exchange, or the account as the last run left it.

    Raises:
        InvalidConfigError: the configuration is invalid.
        SimStateError: there is no paper account yet, or it cannot be read.
    """
    config = venue_config(args)
    clock = SystemClock()
    with contextlib.ExitStack() as stack:
        if embeds_sim(config):
            link, where = open_paper_account(config, clock, stack)
        else:
            link = open_venue(config, clock, stack)
            where = describe_link(link)
        client = link.rest_client()
        stack.callback(client.close)
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
