"""Reload plans: which children a configuration change restarts, and which it only tells."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence

import attrs

from perpsbot.runtime._spec import ChildSpec

__all__ = ["ReloadAction", "ReloadKind", "ReloadPlan", "changed_sections", "plan_reload"]


class ReloadKind(enum.Enum):
    RESTART = "restart"
    """Stopped and started again with the new config (its warm-restart snapshot survives)."""
    NOTIFY = "notify"
    """Told ``ConfigChanged``; it applies the change live."""


@attrs.frozen(kw_only=True)
class ReloadAction:
    path: str
    kind: ReloadKind
    sections: frozenset[str]


@attrs.frozen(kw_only=True)
class ReloadPlan:
    """What applying a new configuration does, in the order it does it."""

    changed_sections: frozenset[str]
    actions: tuple[ReloadAction, ...]

    @property
    def restarts(self) -> tuple[str, ...]:
        """Paths restarted, in start (dependency) order."""
        return tuple(a.path for a in self.actions if a.kind is ReloadKind.RESTART)

    @property
    def notified(self) -> tuple[str, ...]:
        """Paths told ``ConfigChanged``."""
        return tuple(a.path for a in self.actions if a.kind is ReloadKind.NOTIFY)

    def describe(self) -> str:
        """A human-readable summary, one line per action."""
        if not self.changed_sections:
            return "no configuration section changed; nothing to do"
        lines = [f"changed sections: {', '.join(sorted(self.changed_sections))}"]
        for action in self.actions:
            sections = ", ".join(sorted(action.sections))
            lines.append(f"  {action.kind.value:<7} {action.path}  ({sections})")
        if not self.actions:
            lines.append("  no actor depends on them")
        return "\n".join(lines)


def changed_sections(old: Mapping[str, object], new: Mapping[str, object]) -> frozenset[str]:
    """Names of the sections that differ between ``old`` and ``new`` (added and removed too)."""
    return frozenset(name for name in old.keys() | new.keys() if old.get(name) != new.get(name))


def plan_reload(
    children: Sequence[ChildSpec], changed: frozenset[str], parent_path: str
) -> list[ReloadAction]:
    """The actions for ``children`` of the supervisor at ``parent_path``, in start order.

    A nested supervisor is looked into rather than restarted whole, so only the leaves that
    depend on a changed section are touched.
    """
    actions: list[ReloadAction] = []
    for spec in children:
        touched = spec.config_sections & changed
        if not touched:
            continue
        path = f"{parent_path}/{spec.name}"
        if spec.children:
            actions.extend(plan_reload(spec.children, changed, path))
        elif touched <= spec.live_sections:
            actions.append(ReloadAction(path=path, kind=ReloadKind.NOTIFY, sections=touched))
        else:
            actions.append(ReloadAction(path=path, kind=ReloadKind.RESTART, sections=touched))
    return actions
