"""A publisher's subscribers: one that cannot take a message costs the others nothing."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from perpsbot.runtime import MailboxFullError, Subscribers


class _Recipient:
    def __init__(self, path: str, error: Exception | None = None) -> None:
        self.path = path
        self.error = error
        self.received: list[Any] = []

    def tell(self, message: Any) -> None:
        if self.error is not None:
            raise self.error
        self.received.append(message)


def test_a_subscriber_that_raises_is_logged_and_the_rest_still_hear(
    caplog: pytest.LogCaptureFixture,
) -> None:
    full = _Recipient("bot/full", MailboxFullError("mailbox holds at most 1 messages"))
    broken = _Recipient("host/broken", RuntimeError("bug"))
    listening = _Recipient("bot/listening")
    subscribers = Subscribers([(str, full), (str, broken), (str, listening)])

    subscribers.publish("mark")  # must not raise: the publisher is mid-handler

    assert listening.received == ["mark"]
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    # A full mailbox already made a dead letter of it: counted, not an error.
    assert errors == ["subscriber host/broken failed to take str"]
