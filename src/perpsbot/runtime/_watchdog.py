"""The watchdog: a ping through every actor's control lane; no answer in time means hung.

A hung actor is handled as a failure of its incarnation: the thread is abandoned (Python
cannot kill a thread; if it ever returns it exits without taking more messages) and the
supervisor starts a successor on the same mailbox.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterable

from perpsbot.clock import Clock
from perpsbot.errors import ActorHungError
from perpsbot.runtime._cell import Cell, CellState
from perpsbot.runtime._control import Ping

__all__ = ["Watchdog"]

logger = logging.getLogger("perpsbot.runtime.watchdog")


class Watchdog:
    """Pings live actors and reports the ones that do not answer within ``timeout_s``.

    Args:
        cells: returns the cells to watch (called on every check).
        clock: measures how long a ping has been outstanding.
        timeout_s: how long an actor may take to answer a ping, unless its spec says otherwise.
    """

    def __init__(
        self,
        *,
        cells: Callable[[], Iterable[Cell]],
        clock: Clock,
        timeout_s: float,
    ) -> None:
        self._cells = cells
        self._clock = clock
        self.timeout_s = timeout_s
        self._seq = itertools.count(1)
        self.hung_reports = 0
        self.checks = 0

    def check(self) -> None:
        """One watchdog round: judge outstanding pings, then ping whoever has answered."""
        now = self._clock.monotonic()
        self.checks += 1
        for cell in self._cells():
            if cell.state is not CellState.RUNNING or cell.actor is None:
                continue
            if cell.pong_seq < cell.ping_sent_seq:
                timeout_s = cell.spec.hang_timeout_s or self.timeout_s
                if now - cell.ping_sent_at >= timeout_s:
                    self._hung(cell, now - cell.ping_sent_at)
                continue
            cell.ping_sent_seq = next(self._seq)
            cell.ping_sent_at = now
            cell.mailbox.tell(Ping(seq=cell.ping_sent_seq))

    def _hung(self, cell: Cell, waited_s: float) -> None:
        actor = cell.actor
        assert actor is not None
        self.hung_reports += 1
        actor._exit = True  # abandon the thread; it exits if its handler ever returns
        cell.mark_down()
        cell.stats.failures += 1
        reason = f"hung: no answer to a watchdog ping for {waited_s:.3f}s"
        logger.error("%s (incarnation %d) %s", cell.path, cell.incarnation, reason)
        error = ActorHungError(f"{cell.path} {reason}")
        cell.report_exit(incarnation=cell.incarnation, failed=True, reason=reason, error=error)
