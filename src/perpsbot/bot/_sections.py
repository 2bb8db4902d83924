"""Reload units of the bot: every configuration key on its own, named ``section.key``.

Key-level units let a reload restart exactly the actors a change concerns: a new symbol list
restarts the streamer and the poller, while new MA lengths only re-trim the mark windows.
One derived unit, ``venue.link``, stands for everything the venue link is built from, so a
change to any ``venue.*`` key (or ``sim.*`` of an embedded exchange) restarts exactly the
actors that use the venue.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from perpsbot.bot._venue import VENUE_LINK, link_identity
from perpsbot.config import SECTION_TYPES, BotConfig, sections

__all__ = ["bot_sections", "keys"]


def bot_sections(config: BotConfig | None) -> Mapping[str, object]:
    """``{"market_data.symbols": (...), "risk.max_leverage": ..., ...}`` for ``config``
    (nothing for a supervisor started without a configuration)."""
    units: dict[str, object] = {}
    if config is None:
        return units
    for name, section in sections(config).items():
        for field in attrs.fields(SECTION_TYPES[name]):
            units[f"{name}.{field.name}"] = getattr(section, field.name)
    units[VENUE_LINK] = link_identity(config)
    return units


def keys(section: str, *names: str) -> frozenset[str]:
    """Reload units for ``names`` of ``section``, checked against the config's fields."""
    known = {f.name for f in attrs.fields(SECTION_TYPES[section])}
    unknown = sorted(set(names) - known)
    if unknown:
        raise ValueError(f"{section} has no keys {unknown}; its keys are {sorted(known)}")
    return frozenset(f"{section}.{name}" for name in names)
