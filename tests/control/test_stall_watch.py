"""A stop that hangs says where, in the log, without anyone sending SIGUSR1."""

from __future__ import annotations

import logging
import threading

from perpsbot.control import StallWatch
from perpsbot.runtime.testing import eventually


class _Caught(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []
        self.logged = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())
        self.logged.set()


def _watchers() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("perpsbot-stall-watch")]


def test_what_is_not_done_in_time_logs_every_threads_stack_once() -> None:
    logger, caught, release = logging.getLogger("test.stall"), _Caught(), threading.Event()
    logger.addHandler(caught)

    def stuck_in_its_stop() -> None:
        release.wait(30)

    stuck = threading.Thread(target=stuck_in_its_stop, name="test-stuck", daemon=True)
    stuck.start()
    try:
        with StallWatch("stopping", after_s=0.0, logger=logger) as watch:
            watch.start()
            assert caught.logged.wait(10)
    finally:
        release.set()
        stuck.join(10)
        logger.removeHandler(caught)

    [message] = caught.messages
    assert message.startswith("stopping: still not done after 0s; every thread:\n")
    assert "thread 'test-stuck'" in message
    assert "in stuck_in_its_stop" in message


def test_what_ends_in_time_logs_nothing_and_leaves_no_thread() -> None:
    logger, caught = logging.getLogger("test.stall"), _Caught()
    logger.addHandler(caught)
    try:
        with StallWatch("stopping", after_s=3600.0, logger=logger) as watch:
            watch.start()
            assert _watchers() == ["perpsbot-stall-watch (stopping)"]
        eventually(lambda: _watchers() == [], 10, "the watch's thread gone")
        with StallWatch("stopping", after_s=0.0, logger=logger):
            pass  # never started: nothing to watch
    finally:
        logger.removeHandler(caught)
    assert caught.messages == []
    assert _watchers() == []
