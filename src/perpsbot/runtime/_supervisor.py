"""The supervisor actor: starts children in order, restarts them by strategy, escalates.

A supervisor reacts to three messages, all on the control lane:

- ``ChildExited``: restart according to the child's restart type and the strategy, within
  the restart intensity, after the child's backoff; past the intensity, escalate once.
- ``RestartChild``: the backoff timer of a pending restart fired.
- ``Reconfigure``: restart only the children whose config sections changed (or tell them
  ``ConfigChanged`` if they apply it live); with ``dry_run`` only return the plan.
- ``RestartChildNow``: an operator restarts one child (not a failure: no intensity spent).
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Any

from perpsbot.errors import ActorNotFoundError, RestartIntensityExceededError
from perpsbot.ids import seeded_rng
from perpsbot.runtime._actor import ActorContext, BaseActor
from perpsbot.runtime._cell import Cell, CellState
from perpsbot.runtime._control import (
    ChildExited,
    ConfigChanged,
    Reconfigure,
    RestartChild,
    RestartChildNow,
)
from perpsbot.runtime._lifecycle import start_incarnation, stop_incarnation
from perpsbot.runtime._reload import ReloadPlan, changed_sections, plan_reload
from perpsbot.runtime._spec import Restart, RestartStrategy, SupervisorSpec

__all__ = ["Supervisor"]

logger = logging.getLogger("perpsbot.runtime.supervisor")


class Supervisor(BaseActor):
    """Runs the children of a :class:`SupervisorSpec`.

    Args:
        context: as for every actor; ``context.config`` is handed to the children.
        spec: the children, strategy and restart intensity.
    """

    def __init__(self, *, context: ActorContext, spec: SupervisorSpec) -> None:
        super().__init__(context=context)
        self._spec = spec
        self._config = context.config
        self._sections = context.system.sections_of(context.config)
        self._cells: list[Cell] = []
        self._restarts: deque[float] = deque()
        self._child_restarts: dict[str, deque[float]] = {}
        self._pending: list[Cell] = []
        self._pending_generation = 0
        self._timer_pending = False
        self._escalated = False
        self._rng = seeded_rng()

    def on_start(self) -> None:
        system = self.context.system
        # Every child's address exists before the first one starts, so a child may address a
        # later sibling (risk tells orders to the executor that starts after it): what it
        # tells waits in the sibling's mailbox until the sibling has started.
        for child in self._spec.children:
            path = f"{self.address.path}/{child.name}"
            self._cells.append(system._cell_for(path, child, self.address))
        # The wiring goes into the publishers' cells, which outlive incarnations (and this
        # supervisor's restarts: entering it again changes nothing).
        for route in self._spec.wiring.routes:
            publisher = self._cell_named(route.publisher)
            for name in route.subscribers:
                subscriber = self._cell_named(name)
                if publisher is not None and subscriber is not None:  # checked by the spec
                    publisher.subscribers.add(route.topic, subscriber.address, latest=route.latest)
        for cell in self._cells:
            start_incarnation(system, cell, self._config)

    def on_stop(self) -> None:
        self._stop_children()

    def on_failure(self, *_: Any) -> None:
        # Children never outlive their supervisor: the parent restarts the whole subtree.
        self._stop_children()

    def on_receive(self, message: Any) -> Any:
        match message:
            case ChildExited():
                self._on_child_exited(message)
            case RestartChild():
                self._on_restart_child(message)
            case Reconfigure():
                return self._on_reconfigure(message)
            case RestartChildNow(name=name):
                return self._on_restart_child_now(name)
            case _:
                self.unhandled(message)
        return None

    def inspect_state(self) -> Any:
        return {
            "strategy": self._spec.strategy.value,
            "children": [cell.path for cell in self._cells],
            "pending_restarts": [cell.path for cell in self._pending],
            "restarts_in_window": len(self._restarts),
            "escalated": self._escalated,
        }

    # -- failures --------------------------------------------------------------------------

    def _on_child_exited(self, report: ChildExited) -> None:
        cell = self._cell_named(report.name)
        if cell is None or report.incarnation != cell.incarnation or self._escalated:
            return  # about an incarnation already replaced, or we are going down anyway
        restart = cell.spec.restart
        if restart is Restart.TEMPORARY or (not report.failed and restart is Restart.TRANSIENT):
            logger.info("%s ended (%s); not restarted (%s)", cell.path, report.reason, restart)
            cell.close("actor ended and is not restarted")
            return
        now = self.clock.monotonic()
        if not self._within_intensity(now):
            self._escalate(cell, report)
        consecutive = self._note_child_restart(cell, now)
        affected = self._affected_by(cell)
        for other in reversed(affected):
            if other is not cell:
                stop_incarnation(other, final=False)
        for other in affected:
            if other not in self._pending:
                self._pending.append(other)
        delay_s = cell.spec.backoff.delay_s(consecutive - 1, self._rng)  # the first: at once
        logger.warning(
            "%s exited (%s); restarting %s in %.3fs",
            cell.path,
            report.reason,
            [c.name for c in affected],
            delay_s,
        )
        if self._timer_pending:
            return  # joins the restart already waiting for its backoff
        if delay_s <= 0:
            self._restart_pending()
        else:
            self._pending_generation += 1
            self._timer_pending = True
            self.timers.once(delay_s, RestartChild(generation=self._pending_generation))

    def _on_restart_child(self, message: RestartChild) -> None:
        if message.generation == self._pending_generation and not self._escalated:
            self._timer_pending = False
            self._restart_pending()

    def _on_restart_child_now(self, name: str) -> int:
        cell = self._cell_named(name)
        if cell is None or cell.state is CellState.STOPPED:
            known = [c.name for c in self._cells if c.state is not CellState.STOPPED]
            raise ActorNotFoundError(
                f"{self.address.path} has no running child {name!r}; running: {known}"
            )
        logger.info("restarting %s on request", cell.path)
        stop_incarnation(cell, final=False)
        if cell in self._pending:  # waiting for its backoff: started now instead
            self._pending.remove(cell)
        start_incarnation(self.context.system, cell, self._config)
        return cell.incarnation

    def _restart_pending(self) -> None:
        pending, self._pending = self._pending, []
        for cell in sorted(pending, key=self._cells.index):
            if cell.state is CellState.RESTARTING:  # not stopped for good, not started already
                start_incarnation(self.context.system, cell, self._config)

    def _affected_by(self, cell: Cell) -> list[Cell]:
        strategy = self._spec.strategy
        if strategy is RestartStrategy.ONE_FOR_ALL:
            return [c for c in self._cells if c.state is not CellState.STOPPED]
        if strategy is RestartStrategy.REST_FOR_ONE:
            later = self._cells[self._cells.index(cell) :]
            return [c for c in later if c.state is not CellState.STOPPED]
        return [cell]

    def _within_intensity(self, now: float) -> bool:
        intensity = self._spec.intensity
        self._restarts.append(now)
        while self._restarts and now - self._restarts[0] > intensity.window_s:
            self._restarts.popleft()
        return len(self._restarts) <= intensity.max_restarts

    def _note_child_restart(self, cell: Cell, now: float) -> int:
        times = self._child_restarts.setdefault(cell.name, deque())
        times.append(now)
        while times and now - times[0] > self._spec.intensity.window_s:
            times.popleft()
        return len(times)

    def _escalate(self, cell: Cell, report: ChildExited) -> None:
        intensity = self._spec.intensity
        self._escalated = True
        reason = (
            f"{self.address.path}: more than {intensity.max_restarts} restarts within "
            f"{intensity.window_s}s; last {cell.path}: {report.reason}"
        )
        logger.critical("escalating: %s", reason)
        self._stop_children()
        # Raising hands the failure to the base actor, which reports it to our parent
        # (or, at the root, to the system's escalation handler) exactly once.
        raise RestartIntensityExceededError(reason) from report.error

    def _stop_children(self) -> None:
        self._pending.clear()
        for cell in reversed(self._cells):
            stop_incarnation(cell, final=True)

    def _cell_named(self, name: str) -> Cell | None:
        for cell in self._cells:
            if cell.name == name:
                return cell
        return None

    # -- configuration ---------------------------------------------------------------------

    def _on_reconfigure(self, message: Reconfigure) -> ReloadPlan:
        new_sections = self.context.system.sections_of(message.config)
        changed = changed_sections(self._sections, new_sections)
        plan = ReloadPlan(
            changed_sections=changed,
            actions=tuple(plan_reload(self._spec.children, changed, self.address.path)),
        )
        if message.dry_run or not changed:
            return plan
        self._config, self._sections = message.config, new_sections
        touched_cells = [
            (cell, cell.spec.config_sections & changed)
            for cell in self._cells
            if cell.spec.config_sections & changed and cell.state is not CellState.STOPPED
        ]
        restarts = [
            cell
            for cell, touched in touched_cells
            if not cell.spec.children and not touched <= cell.spec.live_sections
        ]
        # Stop in reverse order, then go forward: a nested supervisor is told only after its
        # earlier siblings are running again, so starts follow dependency order across levels.
        for cell in reversed(restarts):
            stop_incarnation(cell, final=False)
            if cell in self._pending:  # waiting for its backoff: the reload starts it now
                self._pending.remove(cell)
        for cell, touched in touched_cells:
            if cell in restarts:
                start_incarnation(self.context.system, cell, self._config)
            elif cell.spec.children:
                cell.address.tell(Reconfigure(config=message.config))
            else:
                cell.address.tell(ConfigChanged(config=message.config, changed_sections=touched))
        logger.info("reconfigured %s:\n%s", self.address.path, plan.describe())
        return plan
