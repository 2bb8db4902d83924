"""ConsoleReporter: prints every sampling cycle for the operator of ``perpsbot run``."""

from __future__ import annotations

import logging
import sys
from decimal import Decimal
from typing import Any, TextIO

from perpsbot.errors import VenueError
from perpsbot.messages import FeedState, FeedStatusChanged, MarksSampled
from perpsbot.runtime import ActorAddress, ActorContext, BaseActor, Subscribe
from perpsbot.venue import RestClient
from perpsbot.venue.link import VenueLink

__all__ = ["ConsoleReporter"]

logger = logging.getLogger("perpsbot.bot.reporter")


class ConsoleReporter(BaseActor):
    """Subscribes to the mark window and the streamer and prints each cycle.

    Each cycle is one line per symbol: mark (at the product's price increment, looked up once
    per symbol), window length and source (stream or poll). Feed changes are the streamer's
    to log; a cycle's header names the feed's state while it is not healthy.
    """

    def __init__(
        self,
        *,
        context: ActorContext,
        venue: VenueLink,
        marks: ActorAddress,
        streamer: ActorAddress,
        out: TextIO = sys.stdout,
    ) -> None:
        super().__init__(context=context)
        self._venue = venue
        self._marks = marks
        self._streamer = streamer
        self._out = out
        self._rest: RestClient | None = None
        self._increments: dict[str, Decimal] = {}
        self._unknown: set[str] = set()  # symbols whose failed lookup was logged
        self._feed = FeedState.CONNECTING

    def on_start(self) -> None:
        self._rest = self._venue.rest_client()
        self._marks.tell(Subscribe(subscriber=self.address, topic=MarksSampled))
        self._streamer.tell(Subscribe(subscriber=self.address, topic=FeedStatusChanged))

    def on_stop(self) -> None:
        if self._rest is not None:
            self._rest.close()

    def on_failure(self, *_: Any) -> None:
        self.on_stop()

    def on_receive(self, message: Any) -> None:
        match message:
            case MarksSampled():
                self._print_cycle(message)
            case FeedStatusChanged(state=state):
                self._feed = state
            case _:
                self.unhandled(message)

    def _print_cycle(self, sampled: MarksSampled) -> None:
        feed = "" if self._feed.healthy else f" (feed {self._feed.value})"
        lines = [f"cycle {sampled.cycle}:{feed}"]
        for sample in sampled.samples:
            mark = "-" if sample.mark is None else self._price(sample.symbol, sample.mark)
            source = "-" if sample.source is None else sample.source.value
            stale = "  STALE" if sample.stale else ""
            lines.append(
                f"  {sample.symbol:<18} mark {mark:>14}  window {len(sample.window):>3}"
                f"  source {source}{stale}"
            )
        print("\n".join(lines), file=self._out, flush=True)

    def _price(self, symbol: str, mark: Decimal) -> str:
        """``mark`` at the product's price increment (``68866.60``); as it is until the
        increment is known."""
        increment = self._increments.get(symbol)
        if increment is None and self._rest is not None:
            try:
                increment = self._rest.product(symbol).price_increment
            except VenueError as error:
                if symbol not in self._unknown:
                    self._unknown.add(symbol)
                    logger.warning(
                        "%s: no price increment (%s); marks printed as is", symbol, error
                    )
                return f"{mark:f}"
            self._increments[symbol] = increment
        if increment is None:
            return f"{mark:f}"
        return f"{mark.quantize(increment.normalize()):f}"
