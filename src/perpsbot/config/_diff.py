"""What changed between two configurations, section by section and key by key."""

from __future__ import annotations

import types
from collections.abc import Mapping

import attrs

from perpsbot.config._bot import SECTION_TYPES, BotConfig, sections

__all__ = ["ConfigDiff", "KeyChange", "diff_config"]


@attrs.frozen(kw_only=True)
class KeyChange:
    """One key whose value differs: ``key`` is dotted (``market_data.short_ma``)."""

    key: str
    old: object
    new: object

    def __str__(self) -> str:
        return f"{self.key}: {_shown(self.old)} -> {_shown(self.new)}"


def _read_only(changed: Mapping[str, tuple[KeyChange, ...]]) -> Mapping[str, tuple[KeyChange, ...]]:
    return types.MappingProxyType(dict(changed))


@attrs.frozen(kw_only=True)
class ConfigDiff:
    """The sections that differ, each with its changed keys, in section order.

    ``changed`` maps a section name to its key changes; sections that are equal are absent, so
    ``diff.sections`` is exactly what a reload must restart (or tell ``ConfigChanged``).
    """

    changed: Mapping[str, tuple[KeyChange, ...]] = attrs.field(converter=_read_only)

    @property
    def sections(self) -> tuple[str, ...]:
        """Names of the changed sections, in :data:`SECTION_TYPES` order."""
        return tuple(self.changed)

    def __bool__(self) -> bool:
        return bool(self.changed)

    def render(self) -> str:
        """Text for ``perpsbot config diff``: a ``[section]`` header, then one line per key."""
        if not self.changed:
            return "no changes"
        lines: list[str] = []
        for name, changes in self.changed.items():
            lines.append(f"[{name}]")
            lines.extend(f"  {change}" for change in changes)
        return "\n".join(lines)


def diff_config(old: BotConfig, new: BotConfig) -> ConfigDiff:
    """Compare two configurations by attrs equality, section by section.

    ``profile`` and ``live`` are not sections; they hold for the life of a process, so a reload
    whose config changes them should be refused (compare them directly).
    """
    old_sections, new_sections = sections(old), sections(new)
    changed: dict[str, tuple[KeyChange, ...]] = {}
    for name in SECTION_TYPES:
        before, after = old_sections[name], new_sections[name]
        if before != after:
            changed[name] = tuple(
                KeyChange(key=f"{name}.{field.name}", old=old_value, new=new_value)
                for field in attrs.fields(SECTION_TYPES[name])
                if (old_value := getattr(before, field.name))
                != (new_value := getattr(after, field.name))
            )
    return ConfigDiff(changed=changed)


def _shown(value: object) -> str:
    """A value as an operator reads it; credentials show through their redacted repr."""
    if isinstance(value, tuple):
        return "[" + ", ".join(str(v) for v in value) + "]"
    if value is None:
        return "unset"
    return repr(value) if attrs.has(type(value)) else str(value)
