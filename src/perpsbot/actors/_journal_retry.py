"""The journal's retries of a batch that failed to commit (a busy or full database).

One failing batch has one chain of retries, on a bounded backoff: the journal arms the next
retry's timer only from a failed attempt, and while a retry is armed nothing else commits
(what arrives joins the waiting batch). Past the last retry the chain ends in
:class:`~perpsbot.errors.JournalWriteError`.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from perpsbot.errors import JournalWriteError

__all__ = ["RETRY_DELAYS_S", "CommitRetries"]

logger = logging.getLogger("perpsbot.actors.journal")

#: Delays before each retry of a batch that hit ``sqlite3.OperationalError`` (about 4 s in all).
RETRY_DELAYS_S = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0)


class CommitRetries:
    """The attempts of the batch that is failing to commit, and the delay before the next."""

    def __init__(self, delays_s: Sequence[float]) -> None:
        self._delays_s = tuple(delays_s)
        self._failed_attempts = 0

    @property
    def armed(self) -> bool:
        """Whether a batch failed and waits for its retry (until one of its attempts commits)."""
        return self._failed_attempts > 0

    def committed(self) -> None:
        """The batch committed: the chain ends."""
        self._failed_attempts = 0

    def delay_after(
        self, error: sqlite3.OperationalError, *, journal: Path, events: int, actor: str
    ) -> float:
        """The delay before the next attempt of the batch of ``events`` that just failed.

        Raises:
            JournalWriteError: that was its last retry.
        """
        attempt = self._failed_attempts
        self._failed_attempts += 1
        if attempt >= len(self._delays_s):
            raise JournalWriteError(
                f"journal {journal} must commit {events} events, failed "
                f"{self._failed_attempts} times; last error: {error}"
            ) from error
        delay_s = self._delays_s[attempt]
        logger.warning(
            "%s: commit of %d events failed (%s); retry %d of %d in %.2fs",
            actor, events, error, attempt + 1, len(self._delays_s), delay_s,
        )  # fmt: skip
        return delay_s
