"""Inspection: a frozen snapshot of an actor tree with per-actor statistics."""

from __future__ import annotations

from collections.abc import Iterator

import attrs

__all__ = ["ActorSnapshot", "SystemSnapshot"]


@attrs.frozen(kw_only=True)
class ActorSnapshot:
    """One actor at the moment of the snapshot."""

    path: str
    actor_class: str
    state: str
    incarnation: int
    restarts: int
    failures: int
    handled: int
    mailbox_depth: int
    mailbox_max_depth: int
    dead_letters: int
    handler_time_s: float
    last_message_age_s: float | None
    children: tuple[ActorSnapshot, ...] = ()
    publishes: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """Who is told what it publishes: (topic name, subscriber paths), from the runtime's
    table (the wiring and every ``Subscribe``)."""

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


@attrs.frozen(kw_only=True)
class SystemSnapshot:
    """The whole tree of one actor system."""

    name: str
    roots: tuple[ActorSnapshot, ...]
    dead_letters: int
    timers_pending: int
    escalated: str | None

    def walk(self) -> Iterator[ActorSnapshot]:
        """Every actor, depth first in start order."""
        stack = list(reversed(self.roots))
        while stack:
            actor = stack.pop()
            yield actor
            stack.extend(reversed(actor.children))

    def find(self, path: str) -> ActorSnapshot:
        """The actor at ``path``; raises KeyError naming the known paths if there is none."""
        for actor in self.walk():
            if actor.path == path:
                return actor
        known = [a.path for a in self.walk()]
        raise KeyError(f"no actor at {path!r}; known: {known}")

    def format(self) -> str:
        """A table of the tree, one actor per line, for people."""
        header = (
            f"{'actor':<32} {'class':<20} {'state':<10} {'inc':>3} {'rst':>3} "
            f"{'handled':>9} {'depth':>5} {'max':>6} {'dead':>5} {'idle s':>7}"
        )
        lines = [f"system {self.name}: dead letters {self.dead_letters}", header]
        for actor in self.walk():
            indent = "  " * actor.path.count("/")
            age = "-" if actor.last_message_age_s is None else f"{actor.last_message_age_s:.1f}"
            lines.append(
                f"{indent + actor.name:<32} {actor.actor_class:<20} {actor.state:<10} "
                f"{actor.incarnation:>3} {actor.restarts:>3} {actor.handled:>9} "
                f"{actor.mailbox_depth:>5} {actor.mailbox_max_depth:>6} "
                f"{actor.dead_letters:>5} {age:>7}"
            )
        routes = [
            f"  {actor.path} {topic} -> {', '.join(paths)}"
            for actor in self.walk()
            for topic, paths in actor.publishes
        ]
        if routes:
            lines += ["who is told what:", *routes]
        if self.escalated:
            lines.append(f"ESCALATED: {self.escalated}")
        return "\n".join(lines)
