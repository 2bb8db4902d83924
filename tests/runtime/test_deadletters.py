from __future__ import annotations

import logging

import pytest

from perpsbot.runtime import DeadLetters


def test_a_huge_dead_letter_is_logged_short_and_kept_whole(
    caplog: pytest.LogCaptureFixture,
) -> None:
    letters = DeadLetters()
    message = ("window", tuple(range(5_000)))
    with caplog.at_level(logging.WARNING, logger="perpsbot.runtime"):
        letters.record("bot/consumer", "actor stopped", message)
    (line,) = [r.getMessage() for r in caplog.records]
    assert "dead letter for bot/consumer (actor stopped): ('window', (0, 1, 2" in line
    assert len(line) < 500
    assert letters.recent()[0].message == message


class _Unprintable:
    def __repr__(self) -> str:
        raise RuntimeError("no repr for you")


def test_a_dead_letter_whose_repr_fails_is_still_recorded(
    caplog: pytest.LogCaptureFixture,
) -> None:
    letters = DeadLetters()
    message = _Unprintable()
    with caplog.at_level(logging.WARNING, logger="perpsbot.runtime"):
        letters.record("bot/marks", "actor stopped", message)  # must not raise
    assert "<_Unprintable: repr failed: RuntimeError('no repr for you')>" in caplog.text
    assert letters.count("bot/marks") == 1
