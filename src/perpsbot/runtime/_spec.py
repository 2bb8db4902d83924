"""How a supervisor is told what to run: child specs, restart types, strategies, backoff."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import attrs

from perpsbot.backoff import Backoff
from perpsbot.runtime._mailbox import FifoMailbox, Mailbox
from perpsbot.runtime._wiring import Wiring

if TYPE_CHECKING:
    from perpsbot.runtime._actor import ActorContext, BaseActor

__all__ = ["Backoff", "ChildSpec", "Intensity", "Restart", "RestartStrategy", "SupervisorSpec"]

#: A child's restarts by default: 10 ms, doubling to 5 s, each up to 20% shorter.
_RESTART_BACKOFF = Backoff(initial_s=0.01, max_s=5.0, jitter=0.2)


class Restart(enum.Enum):
    """When a child that ended is started again (Erlang/OTP's restart types)."""

    PERMANENT = "permanent"
    """Always restarted, whether it failed or stopped by itself."""
    TRANSIENT = "transient"
    """Restarted only after a failure; a child that stops by itself stays stopped."""
    TEMPORARY = "temporary"
    """Never restarted; its address closes when it ends."""


class RestartStrategy(enum.Enum):
    """Which children a supervisor restarts when one of them fails."""

    ONE_FOR_ONE = "one_for_one"
    """Only the failed child."""
    ONE_FOR_ALL = "one_for_all"
    """Every child: stopped in reverse order, started again in order."""
    REST_FOR_ONE = "rest_for_one"
    """The failed child and every child started after it."""


@attrs.frozen(kw_only=True)
class Intensity:
    """At most ``max_restarts`` restarts within ``window_s`` seconds, else escalate."""

    max_restarts: int = attrs.field(default=5, validator=attrs.validators.ge(0))
    window_s: float = attrs.field(default=10.0, validator=attrs.validators.gt(0))


def _names(value: Iterable[str]) -> frozenset[str]:
    return frozenset(value)


def _specs(specs: Iterable[ChildSpec]) -> tuple[ChildSpec, ...]:
    return tuple(specs)


def _check_name(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not value or "/" in value:
        raise ValueError(f"{attribute.name} must be a non-empty name without '/', was {value!r}")


@attrs.frozen(kw_only=True)
class ChildSpec:
    """One child of a supervisor.

    Args:
        name: unique among its siblings; the child's path is ``<supervisor path>/<name>``.
        factory: builds the actor from its :class:`ActorContext` (called again per restart).
        restart: when the child is started again after it ends.
        shutdown_timeout_s: how long an orderly stop may take before the thread is abandoned.
        start_timeout_s: how long its supervisor waits for ``on_start`` before the next sibling.
        hang_timeout_s: how long it may leave a watchdog ping unanswered before it counts as
            hung; None uses the system's ``watchdog_timeout_s``. Raise it for an actor whose
            handlers legitimately block (a REST call with retries).
        config_sections: the config sections this child is built from; a change in any of
            them restarts it (or tells it ``ConfigChanged`` if it is in ``live_sections``).
        live_sections: sections whose change the child applies without a restart.
        backoff: delays between consecutive restarts: the first in a quiet period is
            immediate, the n-th in a row waits ``backoff.delay_s(n - 1)``.
        mailbox: builds the child's mailbox (once: it outlives incarnations).
        restart_buffer: the most messages kept for the child while it restarts.
    """

    name: str = attrs.field(validator=_check_name)
    factory: Callable[[ActorContext], BaseActor]
    restart: Restart = Restart.PERMANENT
    shutdown_timeout_s: float = 5.0
    start_timeout_s: float = 10.0
    hang_timeout_s: float | None = None
    config_sections: frozenset[str] = attrs.field(default=frozenset(), converter=_names)
    live_sections: frozenset[str] = attrs.field(default=frozenset(), converter=_names)
    backoff: Backoff = _RESTART_BACKOFF
    mailbox: Callable[[], Mailbox] = FifoMailbox
    restart_buffer: int = 10_000
    children: tuple[ChildSpec, ...] = ()
    """For a nested supervisor: its children, so reload plans can look inside it."""


@attrs.frozen(kw_only=True)
class SupervisorSpec:
    """A supervisor: its children in start order, its strategy and its restart intensity,
    and who among its children is told what (``wiring``)."""

    name: str = attrs.field(validator=_check_name)
    children: tuple[ChildSpec, ...] = attrs.field(converter=_specs)
    strategy: RestartStrategy = RestartStrategy.ONE_FOR_ONE
    intensity: Intensity = Intensity()
    shutdown_timeout_s: float = 10.0
    wiring: Wiring = attrs.field(factory=Wiring)

    def __attrs_post_init__(self) -> None:
        names = [child.name for child in self.children]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"supervisor {self.name!r} has duplicate child names: {duplicates}")
        self.wiring.check(self.name, names)

    def as_child(self, **overrides: Any) -> ChildSpec:
        """This supervisor as a child of another supervisor (nesting)."""
        from perpsbot.runtime._supervisor import Supervisor  # noqa: PLC0415  (cycle)

        sections: frozenset[str] = frozenset()
        for child in self.children:
            sections |= child.config_sections
        # A supervisor blocks while it stops and starts children: it is not hung meanwhile.
        blocking_s = sum(c.shutdown_timeout_s + c.start_timeout_s for c in self.children)
        return ChildSpec(
            name=self.name,
            factory=lambda context: Supervisor(context=context, spec=self),
            shutdown_timeout_s=self.shutdown_timeout_s,
            config_sections=sections,
            live_sections=sections,  # a nested supervisor applies changes to its own children
            children=self.children,
            hang_timeout_s=blocking_s + 5.0,
            **overrides,
        )
