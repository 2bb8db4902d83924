"""Starting and stopping one incarnation of a cell: shared by supervisors and the system."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from perpsbot.runtime._actor import ActorContext
from perpsbot.runtime._cell import Cell, CellState
from perpsbot.runtime._pykka import ActorStop, ask_envelope
from perpsbot.runtime._timers import ActorTimers

if TYPE_CHECKING:
    from perpsbot.runtime._system import ActorSystem

__all__ = ["start_incarnation", "stop_incarnation"]

logger = logging.getLogger("perpsbot.runtime.lifecycle")


def start_incarnation(system: ActorSystem, cell: Cell, config: Any) -> bool:
    """Build the next incarnation of ``cell``, start its thread and wait for its ``on_start``
    (calling-thread execution: run its ``on_start`` here).

    Waiting (at most ``start_timeout_s``) is what makes siblings start in order: a child
    finds every earlier sibling running. If the factory raises, the failure is reported to
    the cell's parent like any other and False is returned; the snapshot stays for the next
    attempt. A failing ``on_start`` is reported by the actor itself.
    """
    incarnation = cell.incarnation + 1
    context = ActorContext(
        address=cell.address,
        system=system,
        clock=system.clock,
        ids=system.ids,
        timers=ActorTimers(system.scheduler, cell, incarnation),
        config=config,
        incarnation=incarnation,
        snapshot=cell.snapshot,
        cell=cell,
    )
    try:
        actor = cell.spec.factory(context)
    except BaseException as error:
        # A factory that raises is a failed start: reported to the supervisor, never lost.
        logger.exception("%s: factory raised while building incarnation %d", cell.path, incarnation)
        cell.incarnation = incarnation  # so the report below is not taken for a stale one
        cell.mark_down()
        cell.report_exit(
            incarnation=incarnation, failed=True, reason=f"factory raised: {error!r}", error=error
        )
        return False
    cell.snapshot = None
    if incarnation > 1:
        cell.stats.restarts += 1
    cell.attach(actor, incarnation)
    system.tell_latest(cell.address)  # the states it subscribes to, after what it was told
    if cell.loop is not None:
        cell.loop.start(cell, actor)  # on_start here and now: started is set on return
    else:
        actor.start_thread()
    if not actor.started.wait(cell.spec.start_timeout_s):
        logger.error(
            "%s did not finish on_start within %.1fs; carrying on without it",
            cell.path,
            cell.spec.start_timeout_s,
        )
    else:
        cell.mark_up()
    return True


def stop_incarnation(cell: Cell, *, final: bool) -> None:
    """Stop the running incarnation of ``cell`` within its shutdown timeout.

    With ``final`` the cell closes and whatever is still queued becomes dead letters; without
    it (a restart) the queue waits for the next incarnation. An incarnation that does not stop
    in time is abandoned (Python cannot kill a thread) and logged.
    """
    actor = cell.actor
    if actor is not None and cell.state is CellState.RUNNING:
        cell.stop_requested = True
        cell.mark_down()
        timeout_s = cell.spec.shutdown_timeout_s
        stop, _ = ask_envelope(ActorStop())
        cell.mailbox.put(stop)
        # The stopped event is set by an orderly stop and by a failure alike, so an incarnation
        # that fails while we ask does not keep us waiting for the whole timeout.
        if cell.loop is not None:  # run the loop until it took the stop (others move meanwhile)
            cell.loop.run(timeout_s=timeout_s, until=actor.stopped_event.is_set)
        if not actor.stopped_event.wait(0.0 if cell.loop is not None else timeout_s):
            actor._exit = True  # if it ever wakes up, it exits without taking more messages
            logger.error("%s %s", cell.path, _not_stopped(cell, timeout_s))
        cell.mailbox.discard(stop)  # never leave our stop for the next incarnation
    if final:
        cell.close("actor stopped")


def _not_stopped(cell: Cell, timeout_s: float) -> str:
    """Why the incarnation of ``cell`` did not take its stop, and what becomes of it."""
    if cell.loop is None:
        return f"did not stop within {timeout_s:.1f}s; its thread is abandoned"
    if cell.loop.handling(cell):  # no wait at all: the loop cannot hand it anything
        return (
            "cannot stop while its own handler runs further up the stack (its stop was asked"
            " from inside it); the incarnation is abandoned: it ends as that handler returns,"
            " without on_stop"
        )
    return (
        f"did not stop within {timeout_s:.1f}s (the loop was handling other actors' messages"
        " all that time); the incarnation is abandoned"
    )
