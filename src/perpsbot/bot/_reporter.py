"""ConsoleReporter: prints every sampling cycle for the operator of ``perpsbot run``."""

from __future__ import annotations

import sys
from typing import Any, TextIO

from perpsbot.messages import FeedStatusChanged, MarksSampled
from perpsbot.runtime import ActorAddress, ActorContext, BaseActor, Subscribe

__all__ = ["ConsoleReporter"]


class ConsoleReporter(BaseActor):
    """Subscribes to the mark window and the streamer and prints what they publish.

    Each cycle is one line per symbol: mark, window length and source (stream or poll).
    """

    def __init__(
        self,
        *,
        context: ActorContext,
        marks: ActorAddress,
        streamer: ActorAddress,
        out: TextIO = sys.stdout,
    ) -> None:
        super().__init__(context=context)
        self._marks = marks
        self._streamer = streamer
        self._out = out

    def on_start(self) -> None:
        self._marks.tell(Subscribe(subscriber=self.address, topic=MarksSampled))
        self._streamer.tell(Subscribe(subscriber=self.address, topic=FeedStatusChanged))

    def on_receive(self, message: Any) -> None:
        match message:
            case MarksSampled():
                self._print_cycle(message)
            case FeedStatusChanged(state=state, detail=detail):
                self._write(f"feed: {state.value} ({detail})")
            case _:
                self.unhandled(message)

    def _print_cycle(self, sampled: MarksSampled) -> None:
        lines = [f"cycle {sampled.cycle}:"]
        for sample in sampled.samples:
            mark = "-" if sample.mark is None else f"{sample.mark:f}"
            source = "-" if sample.source is None else sample.source.value
            stale = "  STALE" if sample.stale else ""
            lines.append(
                f"  {sample.symbol:<18} mark {mark:>14}  window {len(sample.window):>3}"
                f"  source {source}{stale}"
            )
        self._write("\n".join(lines))

    def _write(self, text: str) -> None:
        print(text, file=self._out, flush=True)
