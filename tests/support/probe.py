"""Moved to :mod:`perpsbot.runtime.testing`; kept as a re-export for tests not yet moved."""

from perpsbot.runtime.testing import Probe

__all__ = ["Probe"]
