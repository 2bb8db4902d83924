"""Who is told what, declared once for a supervisor's children: its wiring.

A :class:`Wiring` names, by child name, each publisher, the message classes (topics) it
publishes and the siblings told each one, in the order they are told. The supervisor enters
it into the runtime before its first child starts; see ``runtime._pubsub``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence

import attrs

__all__ = ["Route", "Wiring"]


def _names(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class Route:
    """``publisher`` tells every message of class ``topic`` to ``subscribers``, in order.

    Args:
        publisher: the publishing child's name.
        topic: the message class.
        subscribers: the children told, in the order they are told.
        latest: the topic is a state (the feed's status): a subscriber that starts, or
            subscribes, while the publisher's incarnation runs is told the latest one at once.
    """

    publisher: str
    topic: type
    subscribers: tuple[str, ...] = attrs.field(converter=_names)
    latest: bool = False


def _routes(value: Iterable[Route]) -> tuple[Route, ...]:
    return tuple(value)


@attrs.frozen
class Wiring:
    """The routes of one supervisor's children."""

    routes: tuple[Route, ...] = attrs.field(default=(), converter=_routes)

    @classmethod
    def of(
        cls,
        table: Mapping[str, Mapping[type, Sequence[str]]],
        *,
        latest: Collection[type] = (),
    ) -> Wiring:
        """From ``{publisher: {topic: subscribers}}``; topics in ``latest`` keep their latest."""
        return cls(
            Route(publisher=publisher, topic=topic, subscribers=who, latest=topic in latest)
            for publisher, topics in table.items()
            for topic, who in topics.items()
        )

    def only(self, names: Collection[str]) -> Wiring:
        """The view of a tree with only the children ``names``: routes of absent publishers,
        and absent subscribers, are left out."""
        kept = []
        for route in self.routes:
            who = [name for name in route.subscribers if name in names]
            if route.publisher in names and who:
                kept.append(attrs.evolve(route, subscribers=who))
        return Wiring(kept)

    def plus(self, other: Wiring) -> Wiring:
        """This wiring with ``other``'s routes added: subscribers of a route both have follow
        this one's (a test tree's observer told more than the bot's wiring tells)."""
        routes = list(self.routes)
        for extra in other.routes:
            for i, route in enumerate(routes):
                if (route.publisher, route.topic) == (extra.publisher, extra.topic):
                    who = [*route.subscribers]
                    who += [name for name in extra.subscribers if name not in who]
                    routes[i] = attrs.evolve(route, subscribers=who)
                    break
            else:
                routes.append(extra)
        return Wiring(routes)

    def published_by(self, publisher: str) -> dict[type, tuple[str, ...]]:
        """What ``publisher`` tells whom."""
        return {r.topic: r.subscribers for r in self.routes if r.publisher == publisher}

    def check(self, supervisor: str, children: Sequence[str]) -> None:
        """Raise ValueError naming the first route that names a child ``children`` lacks."""
        for route in self.routes:
            for role, name in [("publisher", route.publisher)] + [
                ("subscriber", name) for name in route.subscribers
            ]:
                if name not in children:
                    raise ValueError(
                        f"wiring of supervisor {supervisor!r}: the {route.topic.__name__} route"
                        f" from {route.publisher!r} names {role} {name!r}; expected one of its"
                        f" children {list(children)}"
                    )
