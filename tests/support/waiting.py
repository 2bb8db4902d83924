"""Moved to :mod:`perpsbot.runtime.testing`; kept as a re-export for tests not yet moved."""

from perpsbot.runtime.testing import eventually

__all__ = ["eventually"]
