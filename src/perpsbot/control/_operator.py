"""Operator helpers: inspect and steer any actor system from a REPL or a host application."""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from typing import Any, TypeVar, overload

import attrs

from perpsbot.control._table import Table, Text
from perpsbot.runtime import ActorSystem

__all__ = ["AuditRecord", "AuditSink", "Operator", "helper", "log_audit"]

audit_logger = logging.getLogger("perpsbot.audit")

_HELPER = "__perpsbot_helper__"
F = TypeVar("F", bound=Callable[..., Any])


@attrs.frozen(kw_only=True)
class AuditRecord:
    """One operator action: who did what, and how it ended."""

    operator: str
    """``shell uid=1000 pid=4242`` for a shell session, ``in-process`` otherwise."""
    action: str
    """The call as written: ``restart('bot/streamer')``."""
    outcome: str
    """The first line of what the action returned, or ``failed: ...`` with the error."""
    journaled: bool = False
    """True when the actor that applied the action journaled it already (risk audits the
    Halt, ReduceOnly and Resume it applies): a journaling sink then only logs it."""


AuditSink = Callable[[AuditRecord], None]


def log_audit(record: AuditRecord) -> None:
    """The default audit sink: one ``perpsbot.audit`` log line per action (the bot's
    control plane also journals them: see ``perpsbot.bot.control.JournalAudit``)."""
    audit_logger.info(
        "operator %s: %s -> %s",
        record.operator,
        record.action,
        record.outcome,
        extra={"operator": record.operator, "action": record.action, "outcome": record.outcome},
    )


@overload
def helper(func: F) -> F: ...
@overload
def helper(*, action: bool = False, journaled: bool = False) -> Callable[[F], F]: ...
def helper(func: Any = None, *, action: bool = False, journaled: bool = False) -> Any:
    """Mark a method of an :class:`Operator` (sub)class as a helper the shell binds by name.

    ``action=True`` marks an operator action (restart, reload, halt...): every call is
    audited through the operator's audit sink, whether it succeeds or fails.
    ``journaled=True`` says that the actor the action addresses journals it itself when it
    succeeds (see :attr:`AuditRecord.journaled`).
    """

    def mark(method: F) -> F:
        if not action:
            setattr(method, _HELPER, True)
            return method

        @functools.wraps(method)
        def audited(self: Operator, *args: Any, **kwargs: Any) -> Any:
            call = _call_text(method.__name__, args, kwargs)
            try:
                result = method(self, *args, **kwargs)
            except BaseException as error:
                failed = f"failed: {error}"
                self.audit(AuditRecord(operator=self.operator, action=call, outcome=failed))
                raise
            shown = str(result).strip()
            outcome = shown.splitlines()[0] if shown else "done"
            self.audit(
                AuditRecord(
                    operator=self.operator, action=call, outcome=outcome, journaled=journaled
                )
            )
            return result

        setattr(audited, _HELPER, True)
        return audited  # type: ignore[return-value]

    return mark(func) if func is not None else mark


def _call_text(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    shown = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    return f"{name}({', '.join(shown)})"


class Operator:
    """Helpers that inspect and steer an :class:`~perpsbot.runtime.ActorSystem`.

    The shell binds every helper by name (``tree()``, ``state("bot/marks")``); in-process,
    call them as methods or bind them into a session::

        from perpsbot.control import Operator
        globals().update(Operator(system).namespace())
        tree()

    Subclasses add helpers with the :func:`helper` decorator; :meth:`helpers` finds them.
    Helpers return data that prints as a table or text at the REPL and never show secrets.

    Args:
        system: the actor system to operate.
        operator: who acts, as recorded in the audit (a shell session names its peer).
        audit: where operator actions are recorded (default: the ``perpsbot.audit`` log).
        timeout_s: how long a state request may take.
    """

    def __init__(
        self,
        system: ActorSystem,
        *,
        operator: str = "in-process",
        audit: AuditSink = log_audit,
        timeout_s: float = 2.0,
    ) -> None:
        self.system = system
        self.operator = operator
        self.audit = audit
        self.timeout_s = timeout_s

    def helpers(self) -> dict[str, Callable[..., Any]]:
        """Every helper, bound to this operator, by name (base class helpers first)."""
        found: dict[str, Callable[..., Any]] = {}
        for cls in reversed(type(self).__mro__):
            for name, value in vars(cls).items():
                if getattr(value, _HELPER, False):
                    found[name] = getattr(self, name)
        return found

    def namespace(self) -> dict[str, Any]:
        """What a shell session starts with: every helper and ``system``."""
        return {**self.helpers(), "system": self.system}

    # -- the helpers -----------------------------------------------------------------------

    @helper
    def help(self) -> Text:
        """This list of helpers."""
        lines = ["helpers (operator actions are audited):"]
        for name, bound in self.helpers().items():
            params = ", ".join(
                p.name if p.default is p.empty else f"{p.name}={p.default!r}"
                for p in inspect.signature(bound).parameters.values()
            )
            doc = (inspect.getdoc(bound) or "").splitlines()
            call = f"  {name}({params})"
            if len(call) > 22:  # a long signature gets a line of its own
                lines.append(call)
                call = ""
            lines.append(call.ljust(24) + f"{doc[0] if doc else ''}")
        lines.append("and `system`, the ActorSystem itself (any Python runs here).")
        return Text("\n".join(lines))

    @helper
    def actors(self) -> Table:
        """Every actor: state, incarnation, restarts, mailbox depth, dead letters, idle time."""
        snapshot = self.system.inspect()
        return Table(
            ("path", "class", "state", "inc", "restarts", "depth", "dead", "handled", "idle_s"),
            (
                (
                    a.path,
                    a.actor_class,
                    a.state,
                    a.incarnation,
                    a.restarts,
                    a.mailbox_depth,
                    a.dead_letters,
                    a.handled,
                    a.last_message_age_s,
                )
                for a in snapshot.walk()
            ),
        )

    @helper
    def tree(self) -> Text:
        """The supervision tree with per-actor statistics."""
        return Text(self.system.inspect().format())

    @helper
    def state(self, path: str) -> Any:
        """A copy of the inspectable state of the actor at ``path`` (e.g. ``"bot/marks"``)."""
        return self.system.state(path, timeout_s=self.timeout_s)

    @helper(action=True)
    def restart(self, path: str) -> Text:
        """Restart the actor at ``path`` now (audited; spends no restart budget)."""
        incarnation = self.system.restart(path)
        return Text(f"{path} restarted: incarnation {incarnation}")

    @helper(action=True)
    def crash(self, path: str, reason: str) -> Text:
        """Make the actor at ``path`` fail now, a real failure (audited; spends restart budget)."""
        incarnation = self.system.fail(path, reason)
        return Text(f"{path} incarnation {incarnation} failed: {reason}")
