"""The actor system: one scoped tree of supervised actors, its timers and its watchdog.

Several systems can live in one process; shutting one down stops exactly its own actors.
None of our actors is in pykka's global registry, and nothing here calls
``ActorRegistry.stop_all()``, so a host application's pykka actors are never touched.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

import attrs
import pykka

from perpsbot.clock import Clock, SystemClock
from perpsbot.errors import ActorNotFoundError, ActorSystemBusyError, RuntimeStoppedError
from perpsbot.ids import IdSource, ProcessIds
from perpsbot.runtime._calling_thread import CallingThreadLoop, Execution
from perpsbot.runtime._cell import ActorAddress, Cell, CellState
from perpsbot.runtime._control import (
    ChildExited,
    FailNow,
    GetState,
    Reconfigure,
    RestartChildNow,
)
from perpsbot.runtime._deadletters import DeadLetters
from perpsbot.runtime._embed import HostAddress
from perpsbot.runtime._idle import IdleSignal, wait_until_idle
from perpsbot.runtime._inspect import ActorSnapshot, SystemSnapshot
from perpsbot.runtime._lifecycle import start_incarnation, stop_incarnation
from perpsbot.runtime._pubsub import Recipient
from perpsbot.runtime._reload import ReloadPlan
from perpsbot.runtime._spec import ChildSpec, SupervisorSpec
from perpsbot.runtime._timers import Scheduler
from perpsbot.runtime._watch import Watchers
from perpsbot.runtime._watchdog import Watchdog

__all__ = ["ActorSystem", "default_sections"]

logger = logging.getLogger("perpsbot.runtime.system")

EscalationHandler = Callable[[str, BaseException | None], None]


def default_sections(config: Any) -> Mapping[str, object]:
    """Config sections by name: an attrs instance's fields, a mapping's items, else none."""
    if config is None:
        return {}
    if attrs.has(type(config)):
        return {f.name: getattr(config, f.name) for f in attrs.fields(type(config))}
    if isinstance(config, Mapping):
        return dict(config)
    raise TypeError(f"config must be an attrs instance or a mapping, was {type(config).__name__}")


class ActorSystem:
    """A scoped actor runtime.

    Args:
        name: shown in logs, thread names and inspection.
        clock: the time source for timers, backoff and the watchdog.
        ids: the id source handed to actors.
        sections_of: splits a config object into named sections for reload planning.
        watchdog_interval_s: how often actors are pinged (None: no watchdog).
        watchdog_timeout_s: how long an actor may take to answer a ping.
        on_escalation: called once, with the reason, when a root supervisor gives up.
        driven_timers: no timer thread: the caller fires due timers one at a time with
            ``scheduler.fire_next()`` (a backtest's driver; see :class:`Scheduler`).
        execution: a thread per actor (the default), or every handler on the thread that
            runs the system's loop (``Execution.CALLING_THREAD``, a backtest's; it needs
            ``driven_timers`` and no watchdog; see ``runtime/_calling_thread.py``).

    Raises:
        ValueError: the calling-thread execution with a timer thread or a watchdog.
    """

    def __init__(
        self,
        name: str = "perpsbot",
        *,
        clock: Clock | None = None,
        ids: IdSource | None = None,
        sections_of: Callable[[Any], Mapping[str, object]] = default_sections,
        watchdog_interval_s: float | None = 5.0,
        watchdog_timeout_s: float = 2.0,
        on_escalation: EscalationHandler | None = None,
        driven_timers: bool = False,
        execution: Execution = Execution.THREADS,
    ) -> None:
        if execution is Execution.CALLING_THREAD and (
            not driven_timers or watchdog_interval_s is not None
        ):
            raise ValueError(
                "an ActorSystem with calling-thread execution must have driven_timers=True"
                " (the thread that runs its loop fires its timers) and"
                " watchdog_interval_s=None (a hung handler hangs its caller), was"
                f" driven_timers={driven_timers!r}, watchdog_interval_s={watchdog_interval_s!r}"
            )
        self.name = name
        self.execution = execution
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.ids: IdSource = ids if ids is not None else ProcessIds()
        self.sections_of = sections_of
        self.dead_letters = DeadLetters()
        self.watchers = Watchers()
        self._idle_signal = IdleSignal()
        self.scheduler = Scheduler(
            self.clock,
            name=f"{name}-timers",
            on_death=self._timers_died,
            driven=driven_timers,
            on_settled=self._idle_signal.settled,
        )
        self._cells: dict[str, Cell] = {}
        self._cell_order: tuple[Cell, ...] = ()  # as created: the calling-thread loop's order
        self._loop = (
            CallingThreadLoop(lambda: self._cell_order)
            if execution is Execution.CALLING_THREAD
            else None
        )
        self._roots: list[Cell] = []
        self._lock = threading.Lock()
        self._on_escalation = on_escalation
        self._escalated = threading.Event()
        self.escalation: str | None = None
        self._stopped = False
        self.watchdog = Watchdog(
            cells=self._live_cells,
            clock=self.clock,
            timeout_s=watchdog_timeout_s,
        )
        if watchdog_interval_s is not None:  # refused here, before any thread starts
            self.scheduler.call_every(watchdog_interval_s, self.watchdog.check)
        self.scheduler.start()

    # -- building the tree -----------------------------------------------------------------

    def start(self, spec: SupervisorSpec, *, config: Any = None) -> ActorAddress:
        """Start a root supervisor and its children; returns the supervisor's address."""
        if self._stopped:
            raise RuntimeStoppedError(f"actor system {self.name!r} is shut down")
        child: ChildSpec = spec.as_child()
        cell = self._cell_for(spec.name, child, None)
        self._roots.append(cell)
        start_incarnation(self, cell, config)
        return cell.address

    def _cell_for(self, path: str, spec: ChildSpec, parent: ActorAddress | None) -> Cell:
        """The cell at ``path``, reused when its supervisor restarts so addresses stay valid."""
        with self._lock:
            cell = self._cells.get(path)
            if cell is None:
                cell = Cell(
                    path=path,
                    spec=spec,
                    mailbox=spec.mailbox(),
                    dead_letters=self.dead_letters,
                    parent=parent,
                    report_root=self._root_exited,
                    watchers=self.watchers,
                    on_settled=self._idle_signal.settled,
                    loop=self._loop,
                )
                self._cells[path] = cell
                self._cell_order = (*self._cell_order, cell)
                if self._loop is not None:
                    self._loop.attach(cell)
            else:
                cell.revive()
            return cell

    def _all_cells(self) -> list[Cell]:
        with self._lock:
            return list(self._cells.values())

    def _live_cells(self) -> list[Cell]:
        with self._lock:
            return [c for c in self._cells.values() if c.state is CellState.RUNNING]

    # -- talking to it ---------------------------------------------------------------------

    def address(self, path: str) -> ActorAddress:
        """The stable address of the actor at ``path`` (e.g. ``bot/marks``)."""
        with self._lock:
            cell = self._cells.get(path)
        if cell is None:
            raise ActorNotFoundError(f"no actor at {path!r}; known: {sorted(self._cells)}")
        return cell.address

    def host_address(
        self, actor_ref: pykka.ActorRef[Any], *, name: str | None = None
    ) -> HostAddress:
        """A handle to a host application's plain pykka actor that our publishers can tell
        (``Subscribe(subscriber=system.host_address(ref), topic=...)``); see ``HostAddress``."""
        return HostAddress(actor_ref, dead_letters=self.dead_letters, name=name)

    def watch(self, path: str, watcher: Recipient) -> None:
        """Tell ``watcher`` ``ActorDown`` whenever an incarnation of the actor at ``path`` ends
        and ``ActorUp`` when a new one has started; ``path`` need not exist yet. The watcher
        may be a host application's actor (:meth:`host_address`)."""
        self.watchers.add(path, watcher)

    def unwatch(self, path: str, watcher: Recipient) -> None:
        self.watchers.remove(path, watcher)

    def tell_latest(self, subscriber: Recipient) -> None:
        """Tell ``subscriber`` the latest message of every ``latest`` topic it subscribes to
        (the runtime does so as each incarnation of ours starts)."""
        for cell in self._all_cells():
            cell.subscribers.tell_latest(subscriber)

    def subscriptions(self) -> dict[str, dict[str, tuple[str, ...]]]:
        """Who is told what: subscriber paths per topic name, per publisher path (the
        declared wiring and every ``Subscribe`` since)."""
        return {
            cell.path: paths for cell in self._all_cells() if (paths := cell.subscribers.paths())
        }

    def state(self, path: str, *, timeout_s: float = 2.0) -> Any:
        """A deep copy of the inspectable state of the actor at ``path``."""
        return self.address(path).ask(GetState(), timeout_s=timeout_s)

    def restart(self, path: str, *, timeout_s: float = 30.0) -> int:
        """Restart the actor at ``path`` now (an operator's restart, not a failure: its warm
        snapshot passes on and no restart intensity is spent); returns its new incarnation.

        Raises:
            ActorNotFoundError: nothing runs at ``path``, or it is a root supervisor.
        """
        parent, _, name = path.rpartition("/")
        if not parent:
            raise ActorNotFoundError(
                f"{path!r} is a root supervisor and cannot be restarted alone; restart its"
                " children, or stop and start the system"
            )
        return int(self.address(parent).ask(RestartChildNow(name=name), timeout_s=timeout_s))

    def fail(self, path: str, reason: str, *, timeout_s: float = 10.0) -> int:
        """Make the running incarnation of the actor at ``path`` fail now, as Erlang's
        ``exit(Pid, Reason)`` does: it ends with ``ActorFailedOnRequestError(reason)`` ahead of
        its queued work, and its supervisor restarts it as after any failure (restart
        intensity spent, backoff applied, a rest-for-one sibling restarted too). Queued
        messages wait for the successor. Returns the incarnation that failed; the caller does
        not wait for the restart.

        Raises:
            ActorNotFoundError: nothing runs at ``path`` (or it is restarting), or it is a
                root supervisor, whose failure would end the system.
            AskTimeoutError: the actor is busy in a handler for longer than ``timeout_s``; it
                fails when that handler returns.
        """
        with self._lock:
            cell = self._cells.get(path)
            running = sorted(p for p, c in self._cells.items() if c.state is CellState.RUNNING)
        if cell is None or cell.state is not CellState.RUNNING:
            raise ActorNotFoundError(f"no running actor at {path!r}; running: {running}")
        if cell.parent is None:
            raise ActorNotFoundError(
                f"{path!r} is a root supervisor: its failure would end the system; fail its"
                " children, or stop the system"
            )
        request = FailNow(reason=reason, incarnation=cell.incarnation)
        return int(cell.address.ask(request, timeout_s=timeout_s))

    def reload(self, config: Any, *, dry_run: bool = False, timeout_s: float = 10.0) -> ReloadPlan:
        """Apply ``config`` to every root supervisor (or only plan it); returns the plan."""
        plans = [
            root.address.ask(Reconfigure(config=config, dry_run=dry_run), timeout_s=timeout_s)
            for root in self._roots
            if root.state is CellState.RUNNING
        ]
        if not plans:
            raise RuntimeStoppedError(f"actor system {self.name!r} has no running supervisor")
        actions = tuple(action for plan in plans for action in plan.actions)
        return ReloadPlan(changed_sections=plans[0].changed_sections, actions=actions)

    def wait_idle(self, timeout_s: float = 5.0) -> None:
        """Return once nothing in this system moves until something outside it acts: every
        actor waits on an empty mailbox (none is in a handler or starting), no timer is due on
        the system's clock and none is firing. Waits in real time, however the clock moves.

        With a ``FakeClock``, ``clock.advance(s)`` then ``system.wait_idle()`` returns once
        every timer the advance made due has fired and everything those timers and their
        messages set off has been handled. Threads the runtime does not run (a websocket
        feed's, a server's) are not waited for. With ``driven_timers``, due timers wait for
        their driver (``scheduler.fire_next()``) and do not count as work. With the
        calling-thread execution this runs the system's loop until it runs dry.

        Raises:
            ActorSystemBusyError: still busy after ``timeout_s``; names what was busy.
        """
        if self._loop is not None:
            busy = self._loop.run(timeout_s=timeout_s)
        else:
            busy = wait_until_idle(self._all_cells, self.scheduler, timeout_s, self._idle_signal)
        if busy:
            raise ActorSystemBusyError(
                f"actor system {self.name!r} must be idle within {timeout_s}s, was busy: "
                + ", ".join(busy)
            )

    def inspect(self) -> SystemSnapshot:
        """A frozen snapshot of the whole tree with per-actor statistics."""
        with self._lock:
            cells = sorted(self._cells.values(), key=lambda c: c.path.count("/"))
        by_parent: dict[str | None, list[Cell]] = {}
        for cell in cells:
            parent = cell.parent.path if cell.parent is not None else None
            by_parent.setdefault(parent, []).append(cell)

        def snap(cell: Cell) -> ActorSnapshot:
            actor = cell.actor
            return ActorSnapshot(
                path=cell.path,
                actor_class=type(actor).__name__ if actor is not None else "-",
                state=cell.state.value,
                incarnation=cell.incarnation,
                restarts=cell.stats.restarts,
                failures=cell.stats.failures,
                handled=cell.stats.handled,
                mailbox_depth=cell.mailbox.depth(),
                mailbox_max_depth=cell.mailbox.max_depth,
                dead_letters=self.dead_letters.count(cell.path),
                handler_time_s=cell.stats.handler_ns / 1e9,
                last_message_age_s=cell.last_message_age_s(),
                publishes=tuple(cell.subscribers.paths().items()),
                children=tuple(snap(child) for child in by_parent.get(cell.path, ())),
            )

        return SystemSnapshot(
            name=self.name,
            roots=tuple(snap(cell) for cell in self._roots),
            dead_letters=self.dead_letters.count(),
            timers_pending=self.scheduler.pending(),
            escalated=self.escalation,
        )

    # -- endings ---------------------------------------------------------------------------

    def wait_for_escalation(self, timeout_s: float | None = None) -> str | None:
        """Block until a root supervisor escalates (or the timeout passes); returns the reason."""
        self._escalated.wait(timeout_s)
        return self.escalation

    def _root_exited(self, cell: Cell, report: ChildExited) -> None:
        """A root supervisor ended on its own: the host (daemon or application) must know."""
        cell.close("root supervisor ended")
        self._escalate(f"{cell.path}: {report.reason}", report.error)

    def _timers_died(self, error: BaseException) -> None:
        """The timer thread died: no timer, backoff or watchdog check runs any more, so the
        tree cannot be trusted to heal itself; the host must know, as for a root escalation."""
        if not self._stopped:
            self._escalate(f"the timer thread {self.scheduler.name} died: {error!r}", error)

    def _escalate(self, reason: str, error: BaseException | None) -> None:
        with self._lock:  # reached from a supervisor's thread and the timer thread alike
            if self._escalated.is_set():
                return
            self.escalation = reason
            self._escalated.set()
        logger.critical("actor system %s escalated: %s", self.name, reason)
        if self._on_escalation is not None:
            try:
                self._on_escalation(reason, error)
            except Exception:
                # The host's handler must not break our shutdown path; its error is logged.
                logger.exception("escalation handler raised")

    def shutdown(self, timeout_s: float = 10.0) -> None:
        """Stop every actor of this system (children before parents) and its timer thread."""
        if self._stopped:
            return
        self._stopped = True
        self.watchers.enabled = False  # watchers are stopping too: no news for them
        for cell in reversed(self._roots):
            stop_incarnation(cell, final=True)
        self.scheduler.stop(timeout_s)

    def __enter__(self) -> ActorSystem:
        return self

    def __exit__(self, *_: object) -> None:
        self.shutdown()

    def __repr__(self) -> str:
        return f"ActorSystem({self.name!r}, actors={len(self._cells)})"
