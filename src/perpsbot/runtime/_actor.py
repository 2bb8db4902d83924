"""The base actor: pykka's thread and mailbox, with failures reported instead of lost.

Lifecycle of one incarnation, all but ``__init__`` on the actor's own thread (in a system of
the calling-thread execution, on the thread that runs its loop; ``runtime/_calling_thread.py``):

1. ``__init__(context=...)`` runs in the supervisor's thread; keep it cheap.
2. ``restore_state(snapshot)`` if the previous incarnation handed over a snapshot.
3. ``on_start()``.
4. ``on_receive(message)`` for each message, control lane first.
5. On an orderly stop: ``on_stop()``, then ``snapshot_state()`` for the successor.
   After a failure: ``on_failure(...)``, then ``snapshot_state()``, then the supervisor hears
   of it (the message that raised becomes a dead letter and is never retried). A failure
   requested from outside (``ActorSystem.fail``) takes the same path, ahead of queued work,
   and dead-letters nothing.

Any exception, ``BaseException`` included (but a Ctrl-C reaching the caller of a
calling-thread system, which is the caller's), in any of these is caught and reported to the
supervisor. pykka's process-wide ``ActorRegistry.stop_all()`` is never reached, so a host
application's actors are untouched by ours, and ours are not in pykka's global registry.
"""

from __future__ import annotations

import copy
import logging
import sys
import threading
from types import TracebackType
from typing import TYPE_CHECKING, Any

import attrs
from pykka import messages as pykka_messages

from perpsbot.clock import Clock, stopwatch_ns
from perpsbot.errors import ActorFailedOnRequestError, ActorNotFoundError
from perpsbot.ids import IdSource
from perpsbot.runtime._cell import ActorAddress, Cell
from perpsbot.runtime._control import (
    SPECIAL_TYPES,
    ConfigChanged,
    FailNow,
    Flush,
    GetState,
    Ping,
)
from perpsbot.runtime._mailbox import Mailbox
from perpsbot.runtime._pubsub import Subscribe, Unsubscribe
from perpsbot.runtime._pykka import ActorStop, Envelope, PykkaActor
from perpsbot.runtime._timers import ActorTimers

if TYPE_CHECKING:
    from perpsbot.runtime._system import ActorSystem

__all__ = ["ActorContext", "BaseActor"]

logger = logging.getLogger("perpsbot.runtime.actor")

_PYKKA_PROXY = (
    pykka_messages.ProxyCall,
    pykka_messages.ProxyGetAttr,
    pykka_messages.ProxySetAttr,
)


@attrs.frozen(kw_only=True)
class ActorContext:
    """Everything an actor incarnation is given by its supervisor."""

    address: ActorAddress
    system: ActorSystem
    clock: Clock
    ids: IdSource
    timers: ActorTimers
    config: Any
    incarnation: int
    snapshot: Any = None
    cell: Cell = attrs.field(repr=False)


def _callers_interrupt(error: BaseException) -> bool:
    """A Ctrl-C that reached a handler run on the main thread (an ``Execution.CALLING_THREAD``
    system's caller, where signals are delivered): the caller's to handle, never an actor
    failure to restart from. An actor's own thread gets no signals; one it raises itself is a
    failure like any other."""
    return isinstance(error, KeyboardInterrupt) and threading.current_thread() is (
        threading.main_thread()
    )


class BaseActor(PykkaActor):
    """Base of every perpsbot actor. Subclasses implement :meth:`on_receive` as one ``match``.

    Args:
        context: given by the supervisor; read ``self.address``, ``self.clock``,
            ``self.timers`` and ``self.context.config`` from it.
    """

    use_daemon_thread = True

    def __init__(self, *, context: ActorContext) -> None:
        self.context = context
        self._cell = context.cell
        self._exit = False
        self.started = threading.Event()
        """Set once ``on_start`` has returned or failed: supervisors start children in order."""
        super().__init__()

    def _runtime_inbox(self) -> Mailbox:
        # The mailbox belongs to the cell so that it outlives this incarnation.
        return self.context.cell.mailbox

    # -- what subclasses use ---------------------------------------------------------------

    @property
    def address(self) -> ActorAddress:
        """This actor's own stable address."""
        return self.context.address

    @property
    def clock(self) -> Clock:
        return self.context.clock

    @property
    def timers(self) -> ActorTimers:
        """Timers bound to this incarnation."""
        return self.context.timers

    def publish(self, message: Any) -> None:
        """Tell ``message`` to every subscriber of its class: those its supervisor's wiring
        declares and those that sent ``Subscribe``. The runtime keeps the subscribers across
        this actor's restarts; a subscriber that cannot take it is skipped (see
        ``Subscribers.publish``)."""
        self._cell.subscribers.publish(message)

    def on_receive(self, message: Any) -> Any:
        """Handle one message; end the ``match`` with ``case _: self.unhandled(message)``."""
        self.unhandled(message)

    def unhandled(self, message: Any) -> None:
        """Record a message this actor has no case for as a dead letter (logged once, counted)."""
        self._cell.dead_letters.record(
            self._cell.path, f"no handler for {type(message).__name__}", message
        )

    def snapshot_state(self) -> Any:
        """State to hand to the next incarnation (warm restart); None by default."""
        return None

    def restore_state(self, snapshot: Any) -> None:
        """Take over the previous incarnation's :meth:`snapshot_state`; ignored by default."""

    def inspect_state(self) -> Any:
        """What inspection shows of this actor; a deep copy is taken before it leaves the thread."""
        return self.snapshot_state()

    def on_config_changed(self, message: ConfigChanged) -> None:
        """Apply a live config change; actors listing ``live_sections`` must override this."""
        raise NotImplementedError(
            f"{type(self).__name__} declared live config sections but does not override "
            "on_config_changed"
        )

    # -- the loop --------------------------------------------------------------------------

    def _runtime_loop(self) -> None:
        try:
            self._serve()
        finally:
            self._cell.loop_ended(self.context.incarnation)

    def _serve(self) -> None:
        cell = self._cell
        if not self._start_incarnation():
            return
        get = cell.mailbox.get
        receive = self.on_receive
        stats = cell.stats
        special = SPECIAL_TYPES
        while not self._exit:
            item = get()
            if self._retired():  # while we waited (e.g. wrongly judged hung)
                cell.mailbox.put_front(item)
                break
            if type(item) in special:
                self._handle_special(item)
                continue
            started = stopwatch_ns()
            try:
                receive(item)
            except BaseException as error:
                # Everything, SystemExit included: reported to the supervisor, never to pykka.
                self._fail(f"handler for {type(item).__name__} raised", error, item)
                break
            finished = stopwatch_ns()
            stats.handled += 1
            stats.handler_ns += finished - started
            stats.last_handled_ns = finished

    # -- the calling-thread execution (runtime/_calling_thread.py) -------------------------

    def start_here(self) -> None:
        """Start this incarnation on the calling thread (restore, ``on_start``) instead of on
        a thread of its own."""
        self._start_incarnation()
        if self._exit:  # on_start failed
            self._cell.loop_ended(self.context.incarnation)

    def serve_here(self, item: Any) -> None:
        """Handle one item taken from this actor's mailbox on the calling thread, as the
        actor's own loop would; the incarnation's loop ends with it if it stopped or failed."""
        if type(item) in SPECIAL_TYPES:
            self._handle_special(item)
        else:
            started = stopwatch_ns()
            try:
                self.on_receive(item)
            except BaseException as error:
                if _callers_interrupt(error):
                    raise
                # Everything, as in the loop above.
                self._fail(f"handler for {type(item).__name__} raised", error, item)
            else:
                stats = self._cell.stats
                finished = stopwatch_ns()
                stats.handled += 1
                stats.handler_ns += finished - started
                stats.last_handled_ns = finished
        if self._exit:
            self._cell.loop_ended(self.context.incarnation)

    def _retired(self) -> bool:
        return self._exit

    def _start_incarnation(self) -> bool:
        try:
            if self.context.snapshot is not None:
                self.restore_state(self.context.snapshot)
            self.on_start()
        except BaseException as error:
            if _callers_interrupt(error):
                raise
            # A failing on_start is reported like a failing handler (pykka would drop it).
            self._fail("on_start raised", error, None)
            return False
        finally:
            self.started.set()
        return True

    def _handle_special(self, item: Any) -> None:
        if type(item) is Envelope:
            message, reply_to = item.message, item.reply_to
        else:
            message, reply_to = item, None
        if type(message) is Ping:
            self._cell.pong_seq = message.seq
            return
        if type(message) is Flush:  # everything queued before it has been handled
            if reply_to is not None:
                reply_to.set(None)
            return
        if type(message) is ActorStop:
            self._stop_orderly()
            if reply_to is not None:
                reply_to.set(True)
            return
        if type(message) is FailNow:
            self._fail_now(message, reply_to)
            return
        if type(message) is Subscribe or type(message) is Unsubscribe:
            self._cell.subscribers.apply(message)
            if reply_to is not None:
                reply_to.set(None)
            return
        try:
            if type(message) is GetState:
                result: Any = copy.deepcopy(self.inspect_state())
            elif type(message) is ConfigChanged:
                self.on_config_changed(message)
                result = None
            elif isinstance(message, _PYKKA_PROXY):
                result = self.handle_pykka_message(message)
            else:
                result = self.on_receive(message)
        except BaseException as error:
            if _callers_interrupt(error):
                raise
            # Everything, as above; but like pykka, a failed ask goes back to the asker and
            # the actor carries on.
            if reply_to is not None:
                reply_to.set_exception(sys.exc_info())
                return
            self._fail(f"handler for {type(message).__name__} raised", error, message)
            return
        self._cell.stats.handled += 1
        if reply_to is not None:
            reply_to.set(result)

    def superseded(self) -> bool:
        """True once a successor took this cell over (this thread was abandoned as hung or
        too slow to stop). Safe from any thread: what an actor's own threads ask to know
        they must stop, and a late ending must not touch the successor's cell."""
        return self.context.incarnation != self._cell.incarnation

    def _fail_now(self, message: FailNow, reply_to: Any) -> None:
        path, incarnation = self._cell.path, self.context.incarnation
        if message.incarnation != incarnation:  # it ended before the request arrived
            stale = ActorNotFoundError(
                f"{path} incarnation {message.incarnation} already ended; incarnation"
                f" {incarnation} runs and was not failed"
            )
            if reply_to is not None:
                reply_to.set_exception((type(stale), stale, None))
            return
        error = ActorFailedOnRequestError(f"{path} failed on request: {message.reason}")
        self._fail("failed on request", error, None)  # None: no user message to dead-letter
        if reply_to is not None:
            reply_to.set(incarnation)

    def _stop_orderly(self) -> None:
        cell = self._cell
        self._exit = True
        self.context.timers.cancel_all()
        try:
            self.on_stop()
        except BaseException as error:
            if _callers_interrupt(error):
                raise
            # Logged; the stop goes on regardless.
            logger.exception("%s: on_stop raised", cell.path)
        snapshot = self._safe_snapshot()
        self.stopped_event.set()
        if self.superseded():
            logger.warning("%s: an abandoned incarnation stopped late; ignored", cell.path)
            return
        cell.snapshot = snapshot
        if not cell.stop_requested:  # stopped itself: its supervisor decides what follows
            cell.mark_down()
            self._report(failed=False, reason="stopped itself", error=None)

    def _fail(self, reason: str, error: BaseException, message: Any) -> None:
        cell = self._cell
        self._exit = True
        self.context.timers.cancel_all()
        if self.superseded():
            logger.warning(
                "%s: an abandoned incarnation failed late (%s: %r); ignored",
                cell.path,
                reason,
                error,
            )
            self.stopped_event.set()
            return
        cell.mark_down()
        cell.stats.failures += 1
        logger.error(
            "%s (incarnation %d) failed: %s",
            cell.path,
            self.context.incarnation,
            reason,
            exc_info=(type(error), error, error.__traceback__),
        )
        if message is not None:
            cell.dead_letters.record(cell.path, "its handler raised", message, error)
        try:
            self.on_failure(type(error), error, error.__traceback__)
        except BaseException:
            # Logged; the failure is already being reported.
            logger.exception("%s: on_failure raised", cell.path)
        cell.snapshot = self._safe_snapshot()
        self.stopped_event.set()
        if cell.stop_requested:
            return  # its supervisor is stopping it anyway and decides what follows
        self._report(failed=True, reason=f"{reason}: {error!r}", error=error)

    def _safe_snapshot(self) -> Any:
        try:
            return self.snapshot_state()
        except BaseException:
            # Logged; the successor starts cold.
            logger.exception("%s: snapshot_state raised; successor starts cold", self._cell.path)
            return None

    def _report(self, *, failed: bool, reason: str, error: BaseException | None) -> None:
        self._cell.report_exit(
            incarnation=self.context.incarnation, failed=failed, reason=reason, error=error
        )

    def on_failure(
        self,
        exception_type: type[BaseException] | None,
        exception_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Clean up after a failed handler, before the supervisor restarts this actor."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._cell.path} #{self.context.incarnation}>"
