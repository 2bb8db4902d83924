"""The status of a running system: one JSON document, and the same as text for people."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from perpsbot.control._health import Health
from perpsbot.control._table import Table
from perpsbot.runtime import ActorSystem

__all__ = ["StatusSection", "build_status", "render_status"]


@attrs.frozen(kw_only=True)
class StatusSection:
    """One part of the status beyond the actor tree (the feed, later trading).

    ``collect()`` returns JSON-ready data (None when there is nothing to say: shown as
    ``n/a``); ``render(data)`` returns the text after the section's name.
    """

    name: str
    collect: Callable[[], Any]
    render: Callable[[Any], str]


def build_status(
    system: ActorSystem,
    *,
    about: Mapping[str, Any],
    health: Health,
    sections: Sequence[StatusSection],
) -> dict[str, Any]:
    """The status document: ``about`` (version, pid, config file...), health, every actor
    with its statistics, then each section's data under its name."""
    snapshot = system.inspect()
    document: dict[str, Any] = {
        **about,
        "health": health.as_json(),
        "escalated": snapshot.escalated,
        "dead_letters": snapshot.dead_letters,
        "actors": [
            {
                "path": a.path,
                "class": a.actor_class,
                "state": a.state,
                "incarnation": a.incarnation,
                "restarts": a.restarts,
                "failures": a.failures,
                "handled": a.handled,
                "mailbox_depth": a.mailbox_depth,
                "mailbox_max_depth": a.mailbox_max_depth,
                "dead_letters": a.dead_letters,
                "handler_time_s": a.handler_time_s,
                "last_message_age_s": a.last_message_age_s,
            }
            for a in snapshot.walk()
        ],
    }
    for section in sections:
        document[section.name] = section.collect()
    return document


def render_status(document: Mapping[str, Any], sections: Sequence[StatusSection]) -> str:
    """``document`` as text: a header, health, one line per section, the actor table."""
    health = document["health"]
    if health["ready"]:
        verdict = "live, ready"
    elif health["live"]:
        verdict = "live, NOT READY"
    else:
        verdict = "NOT LIVE"
    lines = [
        f"perpsbot {document['version']}  pid {document['pid']}  profile"
        f" {document['profile']}  up {document['uptime_s']:.0f}s",
        f"{'config':<9} {document['config_file'] or '(none: profile defaults)'}",
        f"{'health':<9} {verdict}",
    ]
    lines.extend(f"{'':<9}   {problem}" for problem in health["problems"])
    for section in sections:
        data = document.get(section.name)
        lines.append(f"{section.name:<9} {'n/a' if data is None else section.render(data)}")
    if document["escalated"]:
        lines.append(f"{'ESCALATED':<9} {document['escalated']}")
    table = Table(
        ("actor", "class", "state", "inc", "restarts", "depth", "dead", "idle_s"),
        (
            (
                "  " * a["path"].count("/") + a["path"].rsplit("/", 1)[-1],
                a["class"],
                a["state"],
                a["incarnation"],
                a["restarts"],
                a["mailbox_depth"],
                a["dead_letters"],
                a["last_message_age_s"],
            )
            for a in document["actors"]
        ),
    )
    return "\n".join([*lines, "", repr(table)])
