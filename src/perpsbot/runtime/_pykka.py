"""Everything the runtime takes from pykka beyond its public API, in one place.

pykka gives the runtime its threads, futures and inbox protocol; the runtime replaces pykka's
actor loop, mailbox, registry and stop handling. That takes a few of pykka's private names.
Each is used here and nowhere else, with the reason next to it, so that a pykka release that
renames one breaks this module only. CI runs the runtime tests on the lowest and the highest
pykka version ``setup.cfg`` allows.
"""

from __future__ import annotations

import threading
from typing import Any

import pykka
from pykka import messages as _messages

# pykka wraps what its ActorRef.tell/ask and proxies put into an inbox in an Envelope
# (message plus an optional reply future). Our mailboxes implement pykka's inbox protocol,
# so they must recognise envelopes; our own asks build them too, so one path serves both.
from pykka._envelope import Envelope

__all__ = ["ActorStop", "Envelope", "PykkaActor", "ReplyFuture", "ask_envelope"]

#: pykka's stop message, sent by ``Actor.stop()`` and ``ActorRef.stop()``. Our loop treats it
#: as an orderly stop so both keep working on our actors, and our supervisors send the same.
ActorStop: type = _messages._ActorStop


# Not subscripted: the oldest pykka setup.cfg allows may lack the generic base at run time.
class ReplyFuture(pykka.ThreadingFuture):  # type: ignore[type-arg]
    """pykka's threading future that also tells, without waiting, whether it was answered:
    what a calling-thread system's ask runs its loop until."""

    answered = False

    def set(self, value: Any | None = None) -> None:
        super().set(value)
        self.answered = True

    def set_exception(self, exc_info: Any = None) -> None:
        super().set_exception(exc_info)
        self.answered = True


def ask_envelope(message: Any) -> tuple[Envelope[Any], ReplyFuture]:
    """An envelope asking ``message``, and the future its reply will be set on."""
    future = ReplyFuture()
    return Envelope(message, reply_to=future), future


class PykkaActor(pykka.ThreadingActor):
    """pykka's threading actor, with the private hooks the runtime overrides mapped to ours.

    Subclasses implement ``_runtime_inbox`` and ``_runtime_loop``.
    """

    def _create_actor_inbox(self) -> Any:  # type: ignore[override]
        # pykka's hook, called from Actor.__init__ to make the inbox (a staticmethod there;
        # ours needs the instance). Ours comes from the actor's cell, so that it outlives the
        # incarnation.
        return self._runtime_inbox()

    def _actor_loop(self) -> None:
        # pykka's thread body. Ours serves the control lane first, reports every failure to a
        # supervisor instead of logging it and calling ActorRegistry.stop_all() on a
        # BaseException, and can be abandoned when the watchdog finds it hung.
        self._runtime_loop()

    def _runtime_inbox(self) -> Any:
        raise NotImplementedError

    def _runtime_loop(self) -> None:
        raise NotImplementedError

    def start_thread(self) -> None:
        """Start the actor's thread (daemon, per ``use_daemon_thread``).

        Unlike ``ActorRef.start()``, this does not register the actor in pykka's
        process-global ``ActorRegistry``: a host application's ``stop_all()`` and
        ``get_all()`` never see our actors.
        """
        # _start_actor_loop: the thread-starting half of pykka's start(), without registry.
        self._start_actor_loop()

    def handle_pykka_message(self, message: Any) -> Any:
        """Dispatch pykka's own proxy messages (``ProxyCall`` and friends) as pykka does."""
        # _handle_receive: pykka's dispatcher for proxy calls and attribute access; pykka
        # has no public way to run a ProxyCall against an actor.
        return self._handle_receive(message)

    @property
    def stopped_event(self) -> threading.Event:
        """Set when the incarnation has ended: pykka's ``ActorRef.is_alive()`` and ``tell()``
        read this same event (``actor_stopped``), so pykka refs see the truth."""
        event: threading.Event = self.actor_stopped
        return event
