"""Dead letters: every message that could not be delivered or handled, counted and kept."""

from __future__ import annotations

import logging
import threading
from collections import Counter, deque
from typing import Any

import attrs

__all__ = ["DeadLetter", "DeadLetters"]

logger = logging.getLogger("perpsbot.runtime.deadletters")


@attrs.frozen(kw_only=True)
class DeadLetter:
    """One message that did not reach a handler, or whose handler raised."""

    recipient: str
    reason: str
    message: Any
    error: BaseException | None = None


_SHOWN_CHARS = 300  # of a dead letter in the log (inspection keeps the whole message)


class DeadLetters:
    """Counts dead letters per recipient, logs the first of each (recipient, reason) pair,
    and keeps the most recent ones for inspection.

    Args:
        keep: how many recent dead letters to retain.
    """

    def __init__(self, keep: int = 1000) -> None:
        self._lock = threading.Lock()
        self._recent: deque[DeadLetter] = deque(maxlen=keep)
        self._counts: Counter[str] = Counter()
        self._logged: set[tuple[str, str]] = set()

    def record(
        self, recipient: str, reason: str, message: Any, error: BaseException | None = None
    ) -> None:
        """Record one dead letter; logs at WARNING the first time a recipient has this reason."""
        letter = DeadLetter(recipient=recipient, reason=reason, message=message, error=error)
        with self._lock:
            self._recent.append(letter)
            self._counts[recipient] += 1
            first = (recipient, reason) not in self._logged
            if first:
                self._logged.add((recipient, reason))
        if first:
            try:
                shown = repr(message)
            except Exception as exc:  # a broken __repr__ must not break delivery accounting
                shown = f"<{type(message).__name__}: repr failed: {exc!r}>"
            if len(shown) > _SHOWN_CHARS:  # a sample with its windows runs to kilobytes
                shown = shown[: _SHOWN_CHARS - 3] + "..."
            logger.warning(
                "dead letter for %s (%s): %s%s; further ones with this reason are only counted",
                recipient,
                reason,
                shown,
                f" error={error!r}" if error is not None else "",
            )

    def count(self, recipient: str | None = None) -> int:
        """How many dead letters ``recipient`` had, or all recipients together."""
        with self._lock:
            if recipient is None:
                return sum(self._counts.values())
            return self._counts[recipient]

    def recent(self) -> tuple[DeadLetter, ...]:
        """The most recent dead letters, oldest first."""
        with self._lock:
            return tuple(self._recent)
