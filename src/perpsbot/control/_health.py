"""Health judged from progress: is the tree alive and moving, is the bot fit to trade.

A *liveness* check failing means the process should be restarted (the tree escalated, an
actor sits on queued work without handling any). A *readiness* check failing means the bot
should not be relied on yet (no fresh marks; later, reconciliation pending). Neither asks
whether threads exist: a thread can be alive and stuck.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import attrs

from perpsbot.runtime import ActorSystem

__all__ = ["Check", "Health", "escalation_absent", "judge", "no_actor_stuck"]

logger = logging.getLogger("perpsbot.control.health")


@attrs.frozen(kw_only=True)
class Check:
    """One health rule: ``problem()`` returns what is wrong, or None when all is well.

    ``liveness`` checks count for ``/healthz`` and ``/readyz``; the others for ``/readyz``.
    """

    name: str
    problem: Callable[[], str | None]
    liveness: bool = False


@attrs.frozen(kw_only=True)
class Health:
    """The verdict of every check at one moment."""

    live: bool
    ready: bool
    problems: tuple[str, ...]
    """``name: what is wrong`` for each failing check, liveness first."""

    def as_json(self) -> dict[str, object]:
        return {"live": self.live, "ready": self.ready, "problems": list(self.problems)}


def judge(checks: Sequence[Check]) -> Health:
    """Run every check; a check that raises counts as failing with the error as its reason."""
    live_problems: list[str] = []
    ready_problems: list[str] = []
    for check in checks:
        try:
            problem = check.problem()
        except Exception as error:
            # A broken check must fail (never pass) and never take the endpoint down.
            logger.exception("health check %s raised", check.name)
            problem = f"the check raised {error!r}"
        if problem is not None:
            (live_problems if check.liveness else ready_problems).append(f"{check.name}: {problem}")
    return Health(
        live=not live_problems,
        ready=not live_problems and not ready_problems,
        problems=tuple(live_problems + ready_problems),
    )


def escalation_absent(system: ActorSystem) -> Check:
    """Liveness: the tree has not escalated (a supervisor past its restart budget)."""

    def problem() -> str | None:
        escalated = system.escalation
        return None if escalated is None else f"the actor tree escalated: {escalated}"

    return Check(name="escalation", problem=problem, liveness=True)


def no_actor_stuck(system: ActorSystem, *, stuck_after_s: float) -> Check:
    """Liveness: no running actor has had work queued without handling anything for
    ``stuck_after_s`` (the watchdog replaces a hung actor; one that stays stuck is reported)."""

    def problem() -> str | None:
        stuck = [
            f"{a.path} (depth {a.mailbox_depth}, idle {a.last_message_age_s:.0f}s)"
            for a in system.inspect().walk()
            if a.state == "running"
            and a.mailbox_depth > 0
            and a.last_message_age_s is not None
            and a.last_message_age_s > stuck_after_s
        ]
        return f"no progress: {', '.join(stuck)}" if stuck else None

    return Check(name="progress", problem=problem, liveness=True)
