"""Cells and addresses: the part of an actor that outlives its incarnations.

A cell holds an actor's path, mailbox, statistics, subscribers and current incarnation. An
:class:`ActorAddress` is the handle peers keep: it always reaches the current incarnation,
buffers (bounded) while the actor restarts, and turns anything undeliverable into a dead letter.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pykka

from perpsbot.clock import stopwatch_ns
from perpsbot.errors import ActorNotFoundError, AskTimeoutError
from perpsbot.runtime._control import ChildExited
from perpsbot.runtime._deadletters import DeadLetters
from perpsbot.runtime._mailbox import Mailbox
from perpsbot.runtime._pubsub import Subscribers
from perpsbot.runtime._pykka import Envelope, ask_envelope

if TYPE_CHECKING:
    from perpsbot.runtime._actor import BaseActor
    from perpsbot.runtime._calling_thread import CallingThreadLoop
    from perpsbot.runtime._spec import ChildSpec
    from perpsbot.runtime._watch import Watchers

__all__ = ["ActorAddress", "ActorStats", "Cell", "CellState"]


class CellState(enum.Enum):
    """Where an actor is in its life, across incarnations."""

    STARTING = "starting"
    RUNNING = "running"
    RESTARTING = "restarting"
    STOPPED = "stopped"


class ActorStats:
    """Counters of one actor across its incarnations; written only by the actor's own thread
    (and by its supervisor for ``restarts``), read by inspection."""

    __slots__ = ("failures", "handled", "handler_ns", "last_handled_ns", "restarts")

    def __init__(self) -> None:
        self.handled = 0
        self.failures = 0
        self.handler_ns = 0
        self.last_handled_ns = 0
        self.restarts = 0


class Cell:
    """The stable part of one actor (internal to the runtime)."""

    def __init__(
        self,
        *,
        path: str,
        spec: ChildSpec,
        mailbox: Mailbox,
        dead_letters: DeadLetters,
        parent: ActorAddress | None,
        report_root: Callable[[Cell, ChildExited], None],
        watchers: Watchers | None = None,
        on_settled: Callable[[], None] | None = None,
        loop: CallingThreadLoop | None = None,
    ) -> None:
        self.path = path
        self.spec = spec
        self.mailbox = mailbox
        self.parent = parent
        self.dead_letters = dead_letters
        self._report_root = report_root
        self._watchers = watchers
        self.stats = ActorStats()
        self.state = CellState.STARTING
        self.accepting = True  # False while restarting (bounded buffering) or stopped
        self.actor: BaseActor | None = None
        self.incarnation = 0
        self.snapshot: Any = None  # handed from one incarnation to the next
        self.subscribers = Subscribers()  # who is told what this actor publishes
        self.stop_requested = False
        self.ping_sent_seq = 0
        self.ping_sent_at = 0.0
        self.pong_seq = 0
        self._serving: set[int] = set()  # incarnations whose thread is still in its loop
        self.loops_ended = 0
        self.address = ActorAddress(self)
        self._closing = threading.Lock()  # close, revive and late drains, one at a time
        mailbox.on_drop = self._dropped
        self._on_settled = on_settled
        self.loop = loop
        """The loop that runs this actor's handlers (calling-thread execution); None: the
        actor has a thread of its own."""
        if on_settled is not None:
            mailbox.on_sleep = on_settled

    @property
    def name(self) -> str:
        return self.spec.name

    def attach(self, actor: BaseActor, incarnation: int) -> None:
        """Make ``actor`` the current incarnation (its thread starts next); buffered messages
        go to it."""
        self.actor = actor
        self.incarnation = incarnation
        self._serving.add(incarnation)
        self.stop_requested = False
        self.pong_seq = self.ping_sent_seq
        self.state = CellState.RUNNING
        self.accepting = True

    def report_exit(
        self, *, incarnation: int, failed: bool, reason: str, error: BaseException | None = None
    ) -> None:
        """Tell the supervisor that ``incarnation`` ended (the system, for a root)."""
        report = ChildExited(
            name=self.name, incarnation=incarnation, failed=failed, reason=reason, error=error
        )
        if self.parent is not None:
            self.parent.tell(report)
        else:
            self._report_root(self, report)

    def loop_ended(self, incarnation: int) -> None:
        """The thread of ``incarnation`` left its loop: it handles nothing more."""
        self._serving.discard(incarnation)
        self.loops_ended += 1
        if self._on_settled is not None:
            self._on_settled()

    def serving(self) -> bool:
        """True while the current incarnation's thread is in its loop (starting, handling or
        waiting for messages); False between incarnations and once stopped."""
        return self.incarnation in self._serving

    def mark_down(self) -> None:
        """The current incarnation ended; tells buffer (bounded) until a successor attaches."""
        if self.state is CellState.RUNNING and self._watchers is not None:
            self._watchers.down(self.path, self.incarnation, final=False)
        if self.state is not CellState.STOPPED:
            self.state = CellState.RESTARTING
            self.accepting = False
        self.subscribers.forget_latest()

    def mark_up(self) -> None:
        """The current incarnation finished ``on_start``: tell the watchers."""
        if self.state is CellState.RUNNING and self._watchers is not None:
            self._watchers.up(self.path, self.incarnation)

    def close(self, reason: str) -> None:
        """No incarnation will follow: everything queued and sent later is a dead letter."""
        if self.state is not CellState.STOPPED and self._watchers is not None:
            self._watchers.down(self.path, self.incarnation, final=True)
        self.subscribers.forget_latest()
        with self._closing:
            self.state = CellState.STOPPED
            self.accepting = False
            self.actor = None
            drained = self.mailbox.drain()
        for envelope in drained:
            self._dropped(envelope, reason)

    def revive(self) -> None:
        """A restarted supervisor starts this stopped cell again (the address stays valid)."""
        with self._closing:
            if self.state is CellState.STOPPED:
                self.state = CellState.STARTING

    def drain_late(self) -> None:
        """Dead-letter what a sender queued after :meth:`close` had drained the mailbox (its
        send passed the ``accepting`` check just before the close). Nothing, if the cell was
        revived meanwhile: then the message is for the new incarnation."""
        with self._closing:
            drained = self.mailbox.drain() if self.state is CellState.STOPPED else []
        for item in drained:
            self._dropped(item, "actor stopped")

    def _dropped(self, item: Any, reason: str) -> None:
        if type(item) is Envelope:
            if item.reply_to is not None:
                error = ActorNotFoundError(f"{self.path} could not handle the message: {reason}")
                item.reply_to.set_exception((type(error), error, None))
            item = item.message
        self.dead_letters.record(self.path, reason, item)

    def refuse(self, message: Any) -> None:
        """A tell that arrived while the cell does not accept messages."""
        if self.state is CellState.STOPPED:
            self.dead_letters.record(self.path, "actor stopped", message)
        elif self.mailbox.depth() >= self.spec.restart_buffer:
            self.dead_letters.record(
                self.path, f"restart buffer full ({self.spec.restart_buffer})", message
            )
        else:
            self.mailbox.tell(message)

    def last_message_age_s(self) -> float | None:
        if not self.stats.last_handled_ns:
            return None
        return (stopwatch_ns() - self.stats.last_handled_ns) / 1e9


class ActorAddress:
    """A stable handle to an actor: survives restarts, never a raw pykka ref.

    ``tell`` is the normal way to talk to an actor. ``ask`` is for code outside the actor
    graph (CLI, shell, tests) and always has a timeout.
    """

    __slots__ = ("_cell", "_tell")

    def __init__(self, cell: Cell) -> None:
        self._cell = cell
        self._tell = cell.mailbox.tell

    @property
    def path(self) -> str:
        """The actor's place in the tree, like ``bot/marks``."""
        return self._cell.path

    @property
    def incarnation(self) -> int:
        """1 for the first start, +1 per restart."""
        return self._cell.incarnation

    def is_alive(self) -> bool:
        """True while an incarnation is running or about to be restarted."""
        return self._cell.state is not CellState.STOPPED

    def tell(self, message: Any) -> None:
        """Deliver ``message`` without waiting; undeliverable messages become dead letters."""
        cell = self._cell
        if cell.accepting:
            self._tell(message)
            if cell.state is CellState.STOPPED:
                cell.drain_late()  # closed between our check and our append
        else:
            cell.refuse(message)

    def ask(self, message: Any, *, timeout_s: float) -> Any:
        """Send ``message`` and wait at most ``timeout_s`` for the reply.

        Raises:
            AskTimeoutError: no reply in time (the message may still be handled later).
            ActorNotFoundError: the actor is stopped for good.
        """
        cell = self._cell
        if cell.state is CellState.STOPPED:
            raise ActorNotFoundError(f"{cell.path} is stopped; cannot ask {message!r}")
        envelope, future = ask_envelope(message)
        cell.mailbox.put(envelope)
        if not self.is_alive():
            cell.drain_late()  # closed meanwhile: the reply is ActorNotFoundError, not a wait
        if cell.loop is not None:  # nobody else would handle it: run the loop until it is
            cell.loop.run(timeout_s=timeout_s, until=lambda: future.answered)
            timeout_s = 0.0
        try:
            return future.get(timeout=timeout_s)
        except pykka.Timeout:
            raise AskTimeoutError(
                f"{cell.path} did not answer {type(message).__name__} within {timeout_s}s"
            ) from None

    def __repr__(self) -> str:
        return f"ActorAddress({self._cell.path!r}, incarnation={self._cell.incarnation})"
