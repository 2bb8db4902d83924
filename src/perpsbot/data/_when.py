"""Times on the command line: ISO dates and times (UTC unless they say), Unix seconds, or a
span before now (``30d``, ``12h``, ``90m``)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

__all__ = ["parse_when"]

_AGO = re.compile(r"^(\d+)([dhm])$")
_UNIT_S = {"d": 86400, "h": 3600, "m": 60}


def parse_when(text: str, *, now_s: int, what: str) -> int:
    """Unix seconds of ``text``; ``now_s`` anchors the relative forms.

    Raises:
        ValueError: ``text`` is none of the forms; the message names ``what`` and them.
    """
    text = text.strip()
    ago = _AGO.match(text)
    if ago:
        return now_s - int(ago.group(1)) * _UNIT_S[ago.group(2)]
    if text.isdigit():
        return int(text)
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{what} must be an ISO date or time (2026-01-01, 2026-01-01T12:00Z; UTC unless"
            f" it says), Unix seconds, or a span before now (30d, 12h, 90m), was {text!r}"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp())
