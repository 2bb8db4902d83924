"""Reloading the configuration of a running system: one reload at a time, never fatal."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import attrs

from perpsbot.errors import InvalidConfigError
from perpsbot.runtime import ActorSystem, ReloadPlan

__all__ = ["ConfigReloader", "ReloadOutcome"]

logger = logging.getLogger("perpsbot.control.reload")

C = TypeVar("C")


@attrs.frozen(kw_only=True)
class ReloadOutcome:
    """What one reload did: the plan it applied, or why the running configuration stays."""

    trigger: str
    plan: ReloadPlan | None = None
    rejected: str | None = None
    unsettled: tuple[str, ...] = ()
    """What failed after the system took the configuration (it stays applied)."""

    @property
    def applied(self) -> bool:
        return self.rejected is None

    def describe(self) -> str:
        if self.rejected is not None:
            return f"reload rejected, the running configuration stays: {self.rejected}"
        assert self.plan is not None
        return "\n".join([self.plan.describe(), *(f"but: {u}" for u in self.unsettled)])


class ConfigReloader(Generic[C]):
    """Loads the configuration again and applies it to ``system``.

    Reloads are serialized (SIGHUP, the file watcher and a shell may ask at once). An invalid
    file, or any failure before the system took the new configuration, is rejected with the
    reason and the running configuration stays.

    Args:
        system: the running system.
        load: reads and validates the configuration (raises ``InvalidConfigError``).
        current: the configuration the system runs with now.
        prepare: called with a new configuration before the system gets it; raising rejects
            the reload (the bot opens a new venue link here).
        settle: called with the configuration after the system took it (the bot closes the
            previous venue link here); a failure is logged and reported in the outcome, and
            the configuration stays applied.
        timeout_s: how long the system may take to apply a reload.
    """

    def __init__(
        self,
        system: ActorSystem,
        *,
        load: Callable[[], C],
        current: C,
        prepare: Sequence[Callable[[C], Any]] = (),
        settle: Sequence[Callable[[C], Any]] = (),
        timeout_s: float = 120.0,
    ) -> None:
        self._system = system
        self._load = load
        self._prepare = tuple(prepare)
        self._settle = tuple(settle)
        self._timeout_s = timeout_s
        self._lock = threading.Lock()
        self.config: C = current
        """The configuration the system runs with."""

    def reload(self, trigger: str) -> ReloadOutcome:
        """Load and apply the configuration; ``trigger`` (``SIGHUP``, ``file change``,
        ``shell uid=...``) is logged with the outcome."""
        with self._lock:
            outcome = self._reload(trigger)
        if outcome.applied:  # the supervisor logs the plan itself: not repeated here
            assert outcome.plan is not None
            changed = "" if outcome.plan.changed_sections else ": nothing changed"
            logger.info("configuration reloaded (%s)%s", trigger, changed)
        else:
            logger.error("%s (%s)", outcome.describe(), trigger)
        return outcome

    def _reload(self, trigger: str) -> ReloadOutcome:
        try:
            new = self._load()
        except InvalidConfigError as error:
            return ReloadOutcome(trigger=trigger, rejected=str(error))
        try:
            for prepare in self._prepare:
                prepare(new)
            plan = self._system.reload(new, timeout_s=self._timeout_s)
        except Exception as error:
            # A reload must never take the daemon down: whatever failed, the running
            # configuration stays, and the reason is reported. (If the system timed out
            # mid-way it may still finish; the next reload reconciles.)
            return ReloadOutcome(trigger=trigger, rejected=f"{type(error).__name__}: {error}")
        self.config = new
        unsettled = []
        for settle in self._settle:
            try:
                settle(new)
            except Exception as error:
                # The actors run with the new configuration already: it stays, and what
                # failed is reported (a reload never takes the daemon down).
                logger.exception("after reload (%s): %s failed", trigger, settle)
                unsettled.append(f"{type(error).__name__}: {error}")
        return ReloadOutcome(trigger=trigger, plan=plan, unsettled=tuple(unsettled))
