"""A host application built on plain pykka actors, with perpsbot's actor tree inside it.

Run it against the embedded simulated exchange (no credentials, nothing leaves 127.0.0.1):

    PERPSBOT_MARKET_DATA_UPDATE_INTERVAL_S=1 python examples/embed_host.py --cycles 3

The host's ``MarketLogger`` is an ordinary ``pykka.ThreadingActor``. It subscribes to the
bot's sampled marks and feed status through ``system.host_address(...)``, logs every one,
and after ``--cycles`` cycles asks the bot for its state. Then the host shuts down the way
pykka applications do, with ``pykka.ActorRegistry.stop_all()``: the ``SystemAnchor`` started
for the bot shuts the bot's tree down with it, so no thread of the bot is left behind.

Exit status: 0 once the cycles were seen and everything stopped, 1 if the bot escalated or
the cycles did not come within ``--timeout-s``, 2 for an invalid configuration.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import threading
from pathlib import Path
from typing import Any

import pykka

from perpsbot.actors import MarkWindowState
from perpsbot.bot import bot_sections, bot_spec, open_venue
from perpsbot.clock import SystemClock
from perpsbot.config import load_config
from perpsbot.errors import InvalidConfigError
from perpsbot.messages import FeedStatusChanged, MarksSampled
from perpsbot.runtime import ActorSystem, Subscribe, SystemAnchor

log = logging.getLogger("host")


class MarketLogger(pykka.ThreadingActor):
    """The host's actor: logs every mark and feed change, then asks the bot for its state."""

    def __init__(self, system: ActorSystem, cycles: int, done: threading.Event) -> None:
        super().__init__()
        self._system = system
        self._cycles = cycles
        self._done = done

    def on_start(self) -> None:
        me = self._system.host_address(self.actor_ref, name="market-logger")
        # Stable addresses: these reach the bot's actors across their restarts.
        self._system.address("bot/marks").tell(Subscribe(subscriber=me, topic=MarksSampled))
        self._system.address("bot/streamer").tell(Subscribe(subscriber=me, topic=FeedStatusChanged))

    def on_receive(self, message: Any) -> None:
        match message:
            case FeedStatusChanged(state=state, detail=detail):
                log.info("feed: %s (%s)", state.value, detail)
            case MarksSampled(cycle=cycle, samples=samples):
                for sample in samples:
                    mark = "-" if sample.mark is None else f"{sample.mark:f}"
                    log.info("cycle %d: %s mark %s", cycle, sample.symbol, mark)
                if cycle == self._cycles:
                    self._report_state()
            case _:
                log.warning("unexpected message %r", message)

    def _report_state(self) -> None:
        # An ask blocks this host actor's thread, never one of the bot's, for at most 2 s.
        state: MarkWindowState = self._system.state("bot/marks", timeout_s=2.0)
        windows = {symbol: len(window) for symbol, window in state.windows.items()}
        log.info("bot state: cycle %d, windows %s", state.cycle, windows)
        self._done.set()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=3, help="sampling cycles to log")
    parser.add_argument("--timeout-s", type=float, default=120.0, help="give up after this")
    parser.add_argument("--config", type=Path, help="perpsbot TOML configuration (optional)")
    args = parser.parse_args(argv)
    logging.basicConfig(stream=sys.stdout, level=logging.WARNING, format="%(name)s: %(message)s")
    log.setLevel(logging.INFO)
    try:
        config = load_config(args.config, profile="dev", env=os.environ)
    except InvalidConfigError as error:
        log.error("invalid configuration:\n%s", error)
        return 2

    done = threading.Event()
    escalated: list[str] = []

    def on_escalation(reason: str, error: BaseException | None) -> None:
        escalated.append(reason)
        done.set()

    clock = SystemClock()
    with contextlib.ExitStack() as stack:  # stops the embedded exchange last
        venue = open_venue(config, clock, stack)
        system = ActorSystem(
            "bot",
            clock=clock,
            sections_of=bot_sections,
            watchdog_interval_s=config.runtime.watchdog_interval_s,
            watchdog_timeout_s=config.runtime.watchdog_timeout_s,
            on_escalation=on_escalation,
        )
        system.start(bot_spec(config, venue), config=config)
        MarketLogger.start(system, args.cycles, done)
        SystemAnchor.start(system)  # started last, so stop_all() stops the bot first
        seen = done.wait(args.timeout_s)
        pykka.ActorRegistry.stop_all()  # the host's usual shutdown: the anchor stops the bot
        log.info("stop_all() returned; bot running: %s", system.address("bot").is_alive())
    left = [t.name for t in threading.enumerate() if t is not threading.current_thread()]
    log.info("threads left: %d %s", len(left), left)
    if escalated:
        log.error("the bot escalated: %s", escalated[0])
        return 1
    if not seen:
        log.error("no %d cycles within %.0f s", args.cycles, args.timeout_s)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
