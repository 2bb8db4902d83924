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
    """Liveness: no running actor has had work queued and handled nothing for
    ``stuck_after_s`` (the watchdog replaces a hung actor; one that stays stuck is reported).

    Progress is judged between looks, on the system's clock: an actor is stuck once every
    look for ``stuck_after_s`` found work queued and its handled count unchanged. One look
    proves nothing: an actor idle for an hour has a watchdog ping queued for a moment.
    """
    clock = system.clock
    # (path, incarnation) -> (handled, since when) of the actors seen with work queued
    seen: dict[tuple[str, int], tuple[int, float]] = {}

    def problem() -> str | None:
        now = clock.monotonic()
        busy: dict[tuple[str, int], tuple[int, float]] = {}
        stuck = []
        for actor in system.inspect().walk():
            if actor.state != "running" or actor.mailbox_depth == 0:
                continue
            key = (actor.path, actor.incarnation)
            handled, since = seen.get(key, (actor.handled, now))
            if handled != actor.handled:
                since = now
            busy[key] = (actor.handled, since)
            if now - since > stuck_after_s:
                stuck.append(
                    f"{actor.path} (depth {actor.mailbox_depth}, nothing handled for"
                    f" {now - since:.1f}s)"
                )
        seen.clear()
        seen.update(busy)
        return f"no progress: {', '.join(stuck)}" if stuck else None

    return Check(name="progress", problem=problem, liveness=True)
