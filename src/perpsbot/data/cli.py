"""``perpsbot data``: market data for backtests.

``perpsbot data download --symbols BIP-20DEC30-CDE --since 30d`` pages the venue's public
candles into a local store (``candles.sqlite3`` beside the journal by default), fetching only
what the store has not asked for yet: a re-run resumes an interrupted download, and one of a
finished download asks nothing. ``perpsbot data show`` lists what a store holds.

The venue is the configured one: with the ``dev`` profile, the embedded exchange of the
paper account (the running bot's, or one started on the account for the download).
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import attrs

from perpsbot.bot._oneshot import add_venue_options, as_json
from perpsbot.config import BotConfig, Profile, load_config
from perpsbot.data._download import GRANULARITY_S, DownloadProgress, download_candles
from perpsbot.data._store import CandleStore
from perpsbot.data._venue import venue_client
from perpsbot.data._when import parse_when
from perpsbot.errors import (
    DataStoreError,
    InvalidConfigError,
    ProductNotFoundError,
    SimStateError,
    VenueArgumentError,
    VenueError,
)

__all__ = ["configure_parser", "run"]


def configure_parser(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    download = actions.add_parser(
        "download", help="page the venue's candles into a local store (resumable)"
    )
    download.add_argument(
        "--symbols", required=True, help="comma-separated product ids (BIP-20DEC30-CDE,...)"
    )
    download.add_argument(
        "--since", required=True, help="first candle: 2026-01-01, 2026-01-01T12:00Z, Unix s, 30d"
    )
    download.add_argument("--until", help="end, exclusive (default: now, closed candles only)")
    download.add_argument(
        "--granularity", default="ONE_MINUTE", choices=list(GRANULARITY_S),
        help="candle width (default: ONE_MINUTE)",
    )  # fmt: skip
    _store_option(download)
    add_venue_options(download)
    show = actions.add_parser("show", help="list what a candle store holds")
    _store_option(show)
    show.add_argument("--config", type=Path, help="TOML configuration file (optional)")
    show.add_argument("--profile", choices=[p.value for p in Profile], help="(default: dev)")
    show.add_argument("--json", action="store_true", help="print one JSON document")


def _store_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store", type=Path, help="candle store file (default: candles.sqlite3 beside the journal)"
    )


def _store_path(args: argparse.Namespace, config: BotConfig) -> Path:
    return args.store or config.journal.path.parent / "candles.sqlite3"


def run(args: argparse.Namespace) -> int:
    prog = f"perpsbot data {args.action}"
    try:
        config = load_config(
            args.config, profile=args.profile, env=os.environ, live=getattr(args, "live", False)
        )
        if args.action == "show":
            return _show(args, config)
        return _download(args, config)
    except (InvalidConfigError, ValueError) as error:
        print(f"{prog}: {error}", file=sys.stderr)
        return 2
    except (SimStateError, DataStoreError) as error:
        print(f"{prog}: {error}", file=sys.stderr)
        return 1
    except VenueError as error:
        print(
            f"{prog}: the venue did not answer: {error} (what was stored is kept; run the"
            " same command again to resume)",
            file=sys.stderr,
        )
        return 1


def _download(args: argparse.Namespace, config: BotConfig) -> int:
    symbols = [s.strip() for s in args.symbols.split(",") if s.strip()]
    if not symbols:
        raise ValueError(f"--symbols must name at least one product, was {args.symbols!r}")
    with venue_client(config) as (client, where), CandleStore(_store_path(args, config)) as store:
        step = GRANULARITY_S[args.granularity]
        now_s = client.server_time().ts_ns // 10**9
        since = parse_when(args.since, now_s=now_s, what="--since")
        until = now_s if args.until is None else parse_when(args.until, now_s=now_s, what="--until")
        until = min(until, now_s // step * step)  # the bucket in progress is not closed
        if since >= until:
            raise ValueError(
                f"--since must be before --until (and now), was {_iso(since)} and {_iso(until)}"
            )
        print(f"from {where} into {store.path}", file=sys.stderr)
        for symbol in symbols:
            try:
                done = download_candles(
                    client, store, product_id=symbol, granularity=args.granularity,
                    span=(since, until), on_page=_progress,
                )  # fmt: skip
            except ProductNotFoundError:
                raise ValueError(
                    f"--symbols must name products the venue lists, {symbol!r} is not one"
                ) from None
            except VenueArgumentError as error:
                raise ValueError(f"the venue refused the request for {symbol}: {error}") from None
            fetched = "already stored" if done.pages == 0 else f"{done.pages} pages"
            print(
                f"{symbol} {args.granularity}: {done.candles} candles stored ({fetched}),"
                f" {_iso(since)} to {_iso(until)}",
                file=sys.stderr,
            )
    return 0


def _progress(progress: DownloadProgress) -> None:
    share = progress.done_s / progress.missing_s if progress.missing_s else 1.0
    print(
        f"  {progress.product_id}: page {progress.pages}, {progress.candles} candles, {share:.0%}",
        file=sys.stderr,
    )


def _show(args: argparse.Namespace, config: BotConfig) -> int:
    path = _store_path(args, config)
    if not path.is_file():
        raise DataStoreError(
            f"there is no candle store at {path}: 'perpsbot data download' makes one"
        )
    with CandleStore(path) as store:
        series = store.series()
    if args.json:
        print(as_json({"store": path, "series": [attrs.asdict(s) for s in series]}))
        return 0
    print(path)
    for s in series:
        span = (
            f"{_iso(s.first_start_s)} to {_iso(s.last_start_s)}" if s.first_start_s is not None
            else "no candles"
        )  # fmt: skip
        print(f"  {s.product_id:<18} {s.granularity:<14} {s.candles:>8} candles  {span}")
    return 0


def _iso(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%MZ")
