"""``perpsbot run``: the bot as a long-running process.

Loads and validates the configuration (an invalid file exits 2 with the reason), opens the
venue (for ``dev``, the embedded simulated exchange on loopback), starts the supervised actor
tree and idles in the main thread until the duration passes, SIGINT or SIGTERM arrives, or the
tree escalates. SIGHUP reloads the configuration file: an invalid file is rejected and the
running configuration stays; a valid one restarts only the actors its changes concern.

Exit codes: 0 after an orderly stop, 1 if the actor tree escalated (its supervisor gave up,
so a service manager should act), 2 for an invalid configuration: a file that cannot be read
or parsed, a broken value, a symbol the venue does not offer, sim ports already in use. Each
is one log line naming the key; a reload that hits any of them is rejected instead.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import threading
from pathlib import Path
from types import FrameType

from perpsbot.bot import VenueLink, bot_sections, bot_spec, check_symbols, open_venue
from perpsbot.clock import SystemClock
from perpsbot.config import BotConfig, load_config
from perpsbot.errors import InvalidConfigError, PerpsbotError
from perpsbot.runtime import ActorSystem

__all__ = ["configure_parser", "run"]

logger = logging.getLogger("perpsbot.daemon")

EXIT_OK, EXIT_ESCALATED, EXIT_BAD_CONFIG = 0, 1, 2
_SIGNAL_POLL_S = 0.25


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="TOML configuration file (optional)")
    parser.add_argument(
        "--profile", choices=["dev", "canary", "prod"], help="defaults to use (default: dev)"
    )
    parser.add_argument("--live", action="store_true", help="trade real money (canary, prod)")
    parser.add_argument(
        "--duration", type=float, metavar="SECONDS", help="stop after this long (default: run on)"
    )


def _load(args: argparse.Namespace) -> BotConfig:
    return load_config(args.config, profile=args.profile, env=os.environ, live=args.live)


class _Signals:
    """Turns SIGINT/SIGTERM into a stop request and SIGHUP into a reload request."""

    def __init__(self) -> None:
        self.wake = threading.Event()
        self.stop = False
        self.reload = False

    def install(self) -> None:
        signal.signal(signal.SIGINT, self._on_stop)
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGHUP, self._on_reload)

    def _on_stop(self, signum: int, frame: FrameType | None) -> None:
        self.stop = True
        self.wake.set()

    def _on_reload(self, signum: int, frame: FrameType | None) -> None:
        self.reload = True
        self.wake.set()


def _reload(
    system: ActorSystem, args: argparse.Namespace, current: BotConfig, venue: VenueLink
) -> BotConfig:
    try:
        new = _load(args)
        check_symbols(new, venue)
    except InvalidConfigError as error:
        logger.error("reload rejected; the running configuration stays: %s", error)
        return current
    try:
        plan = system.reload(new, timeout_s=120.0)
    except PerpsbotError as error:
        # The supervisor may still finish applying it; the next SIGHUP reconciles.
        logger.error("reload did not complete (%s); keeping the running configuration", error)
        return current
    logger.info("reloaded configuration:\n%s", plan.describe())
    return new


def run(args: argparse.Namespace) -> int:
    try:
        config = _load(args)
    except InvalidConfigError as error:
        logger.critical("invalid configuration: %s", error)  # a JSON line for collectors
        return EXIT_BAD_CONFIG
    clock = SystemClock()
    signals = _Signals()
    if threading.current_thread() is threading.main_thread():
        signals.install()
    with contextlib.ExitStack() as stack:
        try:
            venue = open_venue(config, clock, stack)
            check_symbols(config, venue)
        except InvalidConfigError as error:  # sim ports in use, a product the venue lacks
            logger.critical("invalid configuration: %s", error)
            return EXIT_BAD_CONFIG
        system = ActorSystem(
            "perpsbot",
            clock=clock,
            sections_of=bot_sections,
            watchdog_interval_s=config.runtime.watchdog_interval_s,
            watchdog_timeout_s=config.runtime.watchdog_timeout_s,
            on_escalation=lambda reason, error: signals.wake.set(),
        )
        stack.callback(system.shutdown)
        system.start(bot_spec(config, venue, report=True), config=config)
        logger.info("perpsbot running (profile %s) against %s", config.profile, venue)
        deadline = None if args.duration is None else clock.monotonic() + args.duration
        while not signals.stop and system.escalation is None:
            remaining = _SIGNAL_POLL_S if deadline is None else deadline - clock.monotonic()
            if remaining <= 0:
                break
            # Never block without a timeout: the kernel may deliver a signal to any thread,
            # and Python runs its handler only when the main thread next runs bytecode.
            signals.wake.wait(min(remaining, _SIGNAL_POLL_S))
            signals.wake.clear()
            if signals.reload:
                signals.reload = False
                config = _reload(system, args, config, venue)
        if system.escalation is not None:
            logger.critical("stopping: the actor tree escalated: %s", system.escalation)
            return EXIT_ESCALATED
        logger.info("stopping")
    return EXIT_OK
