"""The control plane's view of the trading actors: the trading state, orders, positions, PnL.

The states of ``bot/risk`` (trading state and every reason holding it, equity, the day's PnL,
exposure, positions) and ``bot/executor`` (its orders' statuses, reconciliation) are read with
``system.state``; the rest comes from the :class:`~perpsbot.bot.control.TradingWatch`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from perpsbot.actors import ExecutorState, RiskState
from perpsbot.bot.control._trading_watch import Observed, TradingWatch
from perpsbot.control import Check, StatusSection, Table, state_or_none
from perpsbot.errors import ActorNotFoundError
from perpsbot.messages import OrderUpdated, PositionView, RiskSnapshot
from perpsbot.runtime import ActorSystem

__all__ = [
    "describe_state",
    "open_orders",
    "order_table",
    "pnl_table",
    "position_table",
    "reconciliation_done",
    "trading_report",
    "trading_section",
]

_ZERO = Decimal(0)


def open_orders(executor: ExecutorState) -> list[str]:
    """The client order ids of the executor's orders that are not finished: open, or ended at
    the venue with fills not yet booked."""
    return [
        coid
        for coid, status in executor.orders.items()
        if status.open or coid in executor.unsettled
    ]


def order_table(
    executor: ExecutorState,
    observed: Observed,
    *,
    recent: int,
    details: Callable[[str], OrderUpdated | None] | None = None,
) -> Table:
    """The executor's open orders, then its ``recent`` latest finished ones, with what the
    watch (or ``details(client_order_id)``, e.g. the journal) knows of their sizes and fills."""
    statuses, unsettled = executor.orders, executor.unsettled
    opened = open_orders(executor)
    finished = [c for c in statuses if c not in opened]
    shown = finished[-recent:] if recent > 0 else []
    rows = []
    for coid in opened + shown:
        order = observed.orders.get(coid)
        if order is None and details is not None:
            order = details(coid)
        status = statuses[coid].value
        if coid in unsettled:
            status = f"{status} ({unsettled[coid]})"
        rows.append(_order_row(coid, status, order))
    return Table(
        ("client_order_id", "symbol", "side", "purpose", "size", "limit", "filled", "avg_price",
         "status"),
        rows,
        title=f"{len(opened)} open, {len(finished)} finished (latest {len(shown)} shown)",
    )  # fmt: skip


def _order_row(coid: str, status: str, order: OrderUpdated | None) -> tuple[Any, ...]:
    if order is None:
        return (coid, None, None, None, None, None, None, None, status)
    return (
        coid,
        order.symbol,
        order.side.value,
        order.purpose.value,
        order.size,
        order.limit_price,
        order.filled_size,
        order.average_fill_price,
        status,
    )


def _snapshot_title(snapshot: RiskSnapshot, now_ns: int) -> str:
    return (
        f"as of risk's cycle {snapshot.cycle}, {(now_ns - snapshot.ts_created_ns) / 1e9:.1f}s ago"
    )


def position_table(risk: RiskState, snapshot: RiskSnapshot | None, now_ns: int) -> Table:
    """Each position of risk's latest snapshot: quantity, entry, mark, notional and PnL; then
    the positions risk holds that no snapshot showed yet (quantities only)."""
    columns = ("symbol", "quantity", "entry", "mark", "notional", "unrealized", "realized",
               "fees", "funding")  # fmt: skip
    views = () if snapshot is None else snapshot.positions
    rows: list[tuple[Any, ...]] = [
        (
            p.symbol,
            p.quantity,
            p.average_entry_price,
            p.mark,
            p.notional,
            p.unrealized_pnl,
            p.realized_pnl,
            p.fees,
            p.funding,
        )
        for p in views
    ]
    shown = {p.symbol for p in views}
    rows += [
        (symbol, quantity, *([None] * 7))
        for symbol, quantity in risk.positions.items()
        if symbol not in shown
    ]
    title = "no risk snapshot yet" if snapshot is None else _snapshot_title(snapshot, now_ns)
    return Table(columns, rows, title=title)


def pnl_table(risk: RiskState, snapshot: RiskSnapshot | None, now_ns: int) -> Table:
    """PnL by symbol and in total (net = realized - fees + funding + unrealized), titled with
    equity, the day's PnL and the exposure."""
    positions: tuple[PositionView, ...] = () if snapshot is None else snapshot.positions
    rows = [
        (p.symbol, p.realized_pnl, p.fees, p.funding, p.unrealized_pnl, _net(p)) for p in positions
    ]
    rows.append(
        (
            "total",
            sum((p.realized_pnl for p in positions), _ZERO),
            sum((p.fees for p in positions), _ZERO),
            sum((p.funding for p in positions), _ZERO),
            sum((p.unrealized_pnl for p in positions), _ZERO),
            sum((_net(p) for p in positions), _ZERO),
        )
    )
    title = (
        f"equity {'-' if risk.equity is None else risk.equity} USD, today {risk.daily_pnl} USD,"
        f" exposure {risk.exposure} USD; "
        + ("no risk snapshot yet" if snapshot is None else _snapshot_title(snapshot, now_ns))
    )
    return Table(("symbol", "realized", "fees", "funding", "unrealized", "net"), rows, title=title)


def _net(p: PositionView) -> Decimal:
    return p.realized_pnl - p.fees + p.funding + p.unrealized_pnl


def trading_report(system: ActorSystem, root: str, watch: TradingWatch) -> dict[str, Any] | None:
    """The trading state with every reason holding it, equity and PnL, open orders and
    positions, the last reconciliation; None while there is no risk actor answering."""
    risk = state_or_none(system, f"{root}/risk", RiskState)
    if risk is None:
        return None
    executor = state_or_none(system, f"{root}/executor", ExecutorState)
    observed = watch.observed()
    snapshot = observed.snapshot
    now_ns = system.clock.time_ns()
    last = observed.reconciliation
    return {
        "state": risk.state.value,
        "reasons": list(risk.reasons),
        "equity": _text(risk.equity),
        "daily_pnl": str(risk.daily_pnl),
        "realized_pnl": None if snapshot is None else str(snapshot.realized_pnl),
        "unrealized_pnl": None if snapshot is None else str(snapshot.unrealized_pnl),
        "exposure": str(risk.exposure),
        "positions": sum(1 for q in risk.positions.values() if q),
        "open_orders": None if executor is None else len(open_orders(executor)),
        "reconciliation": None
        if executor is None
        else {
            "done": executor.reconciled,
            "passes": executor.reconciliations,
            "failures": executor.reconciliation_failures,
            "last": None
            if last is None
            else {
                "success": last.success,
                "startup": last.startup,
                "age_s": (now_ns - last.ts_created_ns) / 1e9,
                "corrections": list(last.corrections),
                "error": last.error,
            },
        },
    }


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def describe_state(state: str, reasons: Iterable[str]) -> str:
    """``HALTED (operator halt: ...; marks stale)`` or ``ACTIVE``."""
    held = "; ".join(reasons)
    return f"{state.upper()} ({held})" if held else state.upper()


def _render_trading(report: dict[str, Any]) -> str:
    def usd(value: str | None) -> str:
        return "-" if value is None else f"{Decimal(value):,.2f}"

    reconciliation = report["reconciliation"]
    if reconciliation is None:
        reconciled = "no executor"
    else:
        last = reconciliation["last"]
        when = "" if last is None else f", last {last['age_s']:.0f}s ago"
        if last is not None and not last["success"]:
            when += f" FAILED: {last['error']}"
        done = "done" if reconciliation["done"] else "PENDING"
        reconciled = (
            f"reconciliation {done} ({reconciliation['passes']} passes,"
            f" {reconciliation['failures']} failed{when})"
        )
    orders = "-" if report["open_orders"] is None else report["open_orders"]
    return (
        f"{describe_state(report['state'], report['reasons'])}\n"
        f"{'':<9} equity {usd(report['equity'])}  realized {usd(report['realized_pnl'])}"
        f"  unrealized {usd(report['unrealized_pnl'])}  today {usd(report['daily_pnl'])}"
        f"  exposure {usd(report['exposure'])}\n"
        f"{'':<9} {orders} open orders, {report['positions']} positions; {reconciled}"
    )


def trading_section(system: ActorSystem, root: str, watch: TradingWatch) -> StatusSection:
    """The ``trading`` part of the status (``n/a`` while no risk actor answers)."""
    return StatusSection(
        name="trading",
        collect=lambda: trading_report(system, root, watch),
        render=_render_trading,
    )


def reconciliation_done(system: ActorSystem, root: str) -> Check:
    """Readiness: the executor finished its startup reconciliation with the venue (passes in
    a tree without an executor)."""
    path = f"{root}/executor"

    def problem() -> str | None:
        try:
            system.address(path)
        except ActorNotFoundError:
            return None
        state = state_or_none(system, path, ExecutorState)
        if state is None:
            return f"{path} does not answer"
        if state.reconciled:
            return None
        return (
            "the startup reconciliation with the venue is not done"
            f" ({state.reconciliation_failures} failed attempts)"
        )

    return Check(name="reconciliation", problem=problem)
