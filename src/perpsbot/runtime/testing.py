"""Test helpers for code built on the runtime, shipped with it (as trio ships ``trio.testing``).

Tests of actors never sleep: they move a :class:`FakeClock` by hand and wait for what they
expect with a timeout.

- :class:`FakeClock` (from :mod:`perpsbot.clock`): pass it to the :class:`ActorSystem`; timers,
  backoff and the watchdog then move only when the test calls ``clock.advance(seconds)``.
- :class:`Probe`: a thread-safe list of events that actors (or callbacks) record into and tests
  wait on; :func:`probe_child` is a child spec for an actor that records every message it is
  told, to stand in for a subscriber.
- :func:`eventually`: wait until a condition holds, polling, with a timeout.
- :func:`wait_drained`: wait until an actor has handled everything told to it before the
  call. It travels the actor's own mailbox, so it needs no counters: once it returns, the
  effects of those messages are visible to the test.
- :func:`wait_idle`: wait until the whole system is idle (``ActorSystem.wait_idle``): every
  mailbox empty, no handler running, no timer due. After ``clock.advance(s)`` it returns once
  everything the advance set off has happened, however many actors it went through.

A typical test::

    clock = FakeClock()
    probe = Probe()
    with ActorSystem("t", clock=clock, watchdog_interval_s=None) as system:
        system.start(SupervisorSpec(name="root", children=[probe_child("sink", probe), ...]))
        system.address("root/worker").tell(Work(1))
        wait_drained(system.address("root/worker"))
        clock.advance(1.0)
        wait_idle(system)  # every timer due at the new time fired, and all it set off
        assert Done(1) in probe.events

Never race a :class:`FakeClock` against real time: advance it only once the actors have
reacted to the last advance (``wait_idle``, ``wait_drained`` or a probe event), or the test
depends on how fast the machine is. With a watchdog on a fake clock, drain the watched actors
after each advance, or they look hung.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from perpsbot.clock import FakeClock, SystemClock
from perpsbot.errors import ActorSystemBusyError
from perpsbot.runtime._actor import ActorContext, BaseActor
from perpsbot.runtime._cell import ActorAddress
from perpsbot.runtime._control import Flush
from perpsbot.runtime._spec import ChildSpec
from perpsbot.runtime._system import ActorSystem

__all__ = [
    "FakeClock",
    "Probe",
    "ProbeActor",
    "eventually",
    "probe_child",
    "wait_drained",
    "wait_idle",
]

T = TypeVar("T")

_POLL_S = 0.002
_REAL = SystemClock()  # waits are in real time, whatever clock the system under test uses


class Probe:
    """A thread-safe record of events that tests wait on instead of sleeping."""

    def __init__(self) -> None:
        self._events: list[Any] = []
        self._changed = threading.Condition()

    def record(self, event: Any) -> None:
        """Append ``event`` and wake every waiter."""
        with self._changed:
            self._events.append(event)
            self._changed.notify_all()

    @property
    def events(self) -> list[Any]:
        """A copy of the events recorded so far, in order."""
        with self._changed:
            return list(self._events)

    def wait_for(
        self, predicate: Callable[[list[Any]], bool], timeout_s: float = 5.0, what: str = ""
    ) -> list[Any]:
        """Wait until ``predicate(events)`` holds and return the events then.

        Raises:
            AssertionError: not within ``timeout_s``; names ``what`` and shows the events.
        """
        with self._changed:
            if not self._changed.wait_for(lambda: predicate(self._events), timeout_s):
                raise AssertionError(
                    f"timed out after {timeout_s}s waiting for {what or predicate}; "
                    f"events: {self._events!r}"
                )
            return list(self._events)

    def wait_for_event(self, event: Any, timeout_s: float = 5.0) -> list[Any]:
        """Wait until ``event`` (compared with ``==``) has been recorded."""
        return self.wait_for(lambda events: event in events, timeout_s, what=repr(event))

    def wait_for_instance(self, cls: type[T], timeout_s: float = 5.0) -> T:
        """Wait for the first recorded event of class ``cls`` and return it."""
        events = self.wait_for(
            lambda events: any(isinstance(e, cls) for e in events), timeout_s, what=cls.__name__
        )
        return next(e for e in events if isinstance(e, cls))


class ProbeActor(BaseActor):
    """Records every message it is told in a :class:`Probe` (a stand-in subscriber)."""

    def __init__(self, *, context: ActorContext, probe: Probe) -> None:
        super().__init__(context=context)
        self._probe = probe

    def on_receive(self, message: Any) -> None:
        self._probe.record(message)


def probe_child(name: str, probe: Probe, **spec: Any) -> ChildSpec:
    """A child spec for a :class:`ProbeActor` named ``name``; ``spec`` adds ChildSpec fields."""
    return ChildSpec(name=name, factory=lambda ctx: ProbeActor(context=ctx, probe=probe), **spec)


def eventually(condition: Callable[[], T], timeout_s: float = 5.0, what: str = "") -> T:
    """Return ``condition()``'s first truthy value, polling until ``timeout_s`` passes.

    Prefer :meth:`Probe.wait_for` or :func:`wait_drained` where they fit: they wake at once.

    Raises:
        AssertionError: the condition never held; names ``what`` and its last value.
    """
    deadline = _REAL.monotonic() + timeout_s
    idle = threading.Event()
    while True:
        value = condition()
        if value:
            return value
        if _REAL.monotonic() >= deadline:
            raise AssertionError(
                f"condition not met within {timeout_s}s: {what or condition!r}; "
                f"last value: {value!r}"
            )
        idle.wait(_POLL_S)  # yields the GIL instead of spinning


def wait_drained(address: ActorAddress, timeout_s: float = 5.0) -> None:
    """Wait until the actor at ``address`` has handled every message told to it before this call.

    A marker goes through the actor's mailbox behind those messages and is answered when
    the actor reaches it, so their effects are visible once this returns. It waits across a
    restart (the successor handles the queue; a restart a backoff delays on a FakeClock waits
    for the clock). A conflating mailbox may have replaced a queued message by a newer one:
    then the newer one is what was handled.

    Raises:
        AssertionError: not drained within ``timeout_s`` (busy, hung, or stopped for good).
    """
    try:
        address.ask(Flush(), timeout_s=timeout_s)
    except Exception as error:  # AskTimeoutError, ActorNotFoundError, MailboxFullError
        raise AssertionError(f"{address.path} did not drain its mailbox: {error}") from error


def wait_idle(system: ActorSystem, timeout_s: float = 5.0) -> None:
    """Wait until nothing in ``system`` moves until the test acts: every actor waits on an
    empty mailbox, none is in a handler, and no timer is due on its clock (see
    ``ActorSystem.wait_idle``). Prefer it to :func:`eventually` for what actors and timers do;
    it does not wait for threads the runtime does not run (a feed's, a server's).

    Raises:
        AssertionError: still busy after ``timeout_s``; names what was busy.
    """
    try:
        system.wait_idle(timeout_s)
    except ActorSystemBusyError as error:
        raise AssertionError(str(error)) from None
