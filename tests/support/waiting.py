"""Wait for a condition without sleeping a fixed time."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(condition: Callable[[], T], timeout_s: float = 5.0, what: str = "") -> T:
    """Return ``condition()``'s first truthy value, polling until ``timeout_s`` passes.

    Raises AssertionError naming ``what`` if the condition never held. Polling waits on an
    Event with a short timeout, so the loop yields the GIL instead of spinning.
    """
    deadline = time.monotonic() + timeout_s
    idle = threading.Event()
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"condition not met within {timeout_s}s: {what or condition!r}")
        idle.wait(0.002)
