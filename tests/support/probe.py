"""A thread-safe record of what actors did, that tests wait on instead of sleeping."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


class Probe:
    """Actors append events; tests wait until the events they expect have happened."""

    def __init__(self) -> None:
        self._events: list[Any] = []
        self._changed = threading.Condition()

    def record(self, event: Any) -> None:
        with self._changed:
            self._events.append(event)
            self._changed.notify_all()

    @property
    def events(self) -> list[Any]:
        with self._changed:
            return list(self._events)

    def wait_for(
        self, predicate: Callable[[list[Any]], bool], timeout_s: float = 5.0, what: str = ""
    ) -> list[Any]:
        """Wait until ``predicate(events)`` holds; fails the test naming ``what`` otherwise."""
        with self._changed:
            if not self._changed.wait_for(lambda: predicate(self._events), timeout_s):
                raise AssertionError(
                    f"timed out after {timeout_s}s waiting for {what or predicate}; "
                    f"events: {self._events!r}"
                )
            return list(self._events)

    def wait_for_event(self, event: Any, timeout_s: float = 5.0) -> list[Any]:
        return self.wait_for(lambda events: event in events, timeout_s, what=repr(event))
