"""``perpsbot record``: record what the market-data feed delivers, without trading.

``perpsbot record --symbols BIP-20DEC30-CDE --out feed.jsonl.gz --duration 600`` follows the
configured venue's market feed (the channels the bot's streamer subscribes: ``level2`` and
``ticker``) and writes every message as received, with its receive time, and a REST quote
of each symbol every ``--quote-interval`` seconds, to a versioned, gzip-compressed file
(see :mod:`perpsbot.data._recording`; :func:`perpsbot.data.read_recording` reads it).
Ctrl-C or SIGTERM end it as ``--duration`` does: the file is complete either way.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

from perpsbot.bot._oneshot import add_venue_options
from perpsbot.clock import SystemClock
from perpsbot.config import BotConfig, load_config
from perpsbot.data._recording import RecordingWriter
from perpsbot.data._venue import venue_link
from perpsbot.errors import InvalidConfigError, SimStateError, VenueError
from perpsbot.messages import FeedStatus
from perpsbot.venue.frames import Frame

__all__ = ["configure_parser", "run"]

CHANNELS = ("level2", "ticker")


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--symbols", help="comma-separated product ids (default: market_data.symbols)"
    )
    parser.add_argument("--out", type=Path, required=True, help="the recording file to write")
    parser.add_argument("--duration", type=float, help="seconds to record (default: until Ctrl-C)")
    parser.add_argument(
        "--quote-interval", type=float, default=1.0, help="seconds between REST quotes (default 1)"
    )
    add_venue_options(parser)


def run(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config, profile=args.profile, env=os.environ, live=args.live)
        if args.symbols is None:
            symbols = tuple(config.market_data.symbols)
        else:
            symbols = tuple(s.strip() for s in args.symbols.split(",") if s.strip())
        if not symbols:
            raise InvalidConfigError(
                f"--symbols must name at least one product, was {args.symbols!r}"
            )
        if args.duration is not None and args.duration <= 0:
            raise InvalidConfigError(
                f"--duration must be a positive number of seconds, was {args.duration}"
            )
        return _record(args, symbols, config)
    except InvalidConfigError as error:
        print(f"perpsbot record: {error}", file=sys.stderr)
        return 2
    except (SimStateError, VenueError, OSError) as error:
        print(f"perpsbot record: {error}", file=sys.stderr)
        return 1


def _record(args: argparse.Namespace, symbols: tuple[str, ...], config: BotConfig) -> int:
    clock = SystemClock()
    done = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda _n, _f: done.set()) if _main() else None
    with venue_link(config) as (link, where):
        writer = RecordingWriter(args.out, symbols=symbols, started_ns=clock.time_ns())
        feed = link.market_feed(
            channels=CHANNELS, product_ids=symbols, on_frame=_ignore_frame,
            on_status=_ignore_status, stale_after_s=config.market_data.stale_after_s,
            on_raw=writer.frame,
        )  # fmt: skip
        client = link.rest_client()
        print(f"recording {', '.join(symbols)} from {where} into {args.out}", file=sys.stderr)
        deadline = None if args.duration is None else clock.monotonic() + args.duration
        feed.start()
        try:
            while not done.is_set():
                for quote in client.best_bid_ask(list(symbols)):
                    writer.quote(quote.product_id, quote.bid, quote.ask, clock.time_ns())
                left = None if deadline is None else deadline - clock.monotonic()
                if left is not None and left <= 0:
                    break
                done.wait(args.quote_interval if left is None else min(left, args.quote_interval))
        except KeyboardInterrupt:
            pass  # Ctrl-C ends the recording, as --duration does; the file is closed below
        finally:
            feed.stop()
            client.close()
            writer.close(ended_ns=clock.time_ns())
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
    print(
        f"recorded {writer.frames} frames and {writer.quotes} quotes into {args.out}",
        file=sys.stderr,
    )
    return 0


def _main() -> bool:
    return threading.current_thread() is threading.main_thread()


def _ignore_frame(frame: Frame) -> None:
    """The recorder keeps the raw messages (``on_raw``); decoded frames are not needed."""


def _ignore_status(status: FeedStatus) -> None:
    """Reconnects are the feed's own business; the recording holds what arrived."""
