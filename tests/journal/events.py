"""Builds the events the journal stores, stamped from a clock and sequential ids."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs

from perpsbot.clock import Clock
from perpsbot.ids import SequentialIds, client_order_id
from perpsbot.messages import (
    FUNDING_CAUSE,
    AccountReconciled,
    ConfigReloaded,
    DryRunOrder,
    Halt,
    IntentPurpose,
    OperatorActed,
    OrderDenied,
    OrderFilled,
    OrderIntent,
    OrderStatus,
    OrderType,
    OrderUpdated,
    PositionChanged,
    PositionView,
    ReconciliationCompleted,
    ReconciliationStarted,
    RecordIntent,
    ReduceOnly,
    ReplyTo,
    Resume,
    RiskSnapshot,
    Side,
    SyncJournal,
    TradingState,
    TradingStateChanged,
    TransitionSource,
    VenuePosition,
)

D = Decimal


class Events:
    """One factory per journaled message; every message gets a fresh id and the clock's time."""

    def __init__(self, clock: Clock, prefix: str = "ev") -> None:
        self.clock = clock
        self._ids = SequentialIds(prefix)

    def _stamp(self) -> dict[str, Any]:
        return {"message_id": self._ids.next_id(), "ts_created_ns": self.clock.time_ns()}

    def intent(
        self,
        intent_id: str = "BTC-USD:entry:1",
        *,
        symbol: str = "BTC-USD",
        side: Side = Side.BUY,
        size: str = "0.5",
        limit_price: str | None = None,
        purpose: IntentPurpose = IntentPurpose.ENTRY,
        ttl_s: float = 30.0,
    ) -> OrderIntent:
        return OrderIntent(
            **self._stamp(),
            intent_id=intent_id,
            symbol=symbol,
            side=side,
            size=D(size),
            order_type=OrderType.MARKET if limit_price is None else OrderType.LIMIT,
            limit_price=None if limit_price is None else D(limit_price),
            purpose=purpose,
            leverage=D(2),
            reference_mark=D("50000"),
            reason="short MA crossed above long MA",
            valid_until_ns=self.clock.time_ns() + int(ttl_s * 1e9),
        )

    def record(self, intent: OrderIntent, reply_to: ReplyTo) -> RecordIntent:
        return RecordIntent(
            **self._stamp(),
            intent=intent,
            client_order_id=client_order_id(intent.intent_id),
            reply_to=reply_to,
        )

    def sync(self, reply_to: ReplyTo) -> SyncJournal:
        return SyncJournal(**self._stamp(), reply_to=reply_to)

    def order(
        self,
        intent: OrderIntent,
        status: OrderStatus,
        previous: OrderStatus | None = None,
        *,
        filled: str = "0",
        price: str | None = None,
        source: TransitionSource = TransitionSource.LOCAL,
        client_order: str | None = None,
    ) -> OrderUpdated:
        return OrderUpdated(
            **self._stamp(),
            correlation_id=intent.message_id,
            intent_id=intent.intent_id,
            client_order_id=client_order or client_order_id(intent.intent_id),
            venue_order_id=None if status is OrderStatus.PENDING_SUBMIT else "venue-1",
            symbol=intent.symbol,
            side=intent.side,
            purpose=intent.purpose,
            order_type=intent.order_type,
            size=intent.size,
            limit_price=intent.limit_price,
            filled_size=D(filled),
            average_fill_price=None if price is None else D(price),
            previous=previous,
            status=status,
            source=source,
            reason=f"now {status.value}",
        )

    def fill(
        self,
        intent: OrderIntent,
        fill_id: str,
        *,
        price: str = "50000",
        size: str | None = None,
        fee: str = "1.25",
        side: Side | None = None,
    ) -> OrderFilled:
        return OrderFilled(
            **self._stamp(),
            correlation_id=intent.message_id,
            fill_id=fill_id,
            intent_id=intent.intent_id,
            client_order_id=client_order_id(intent.intent_id),
            venue_order_id="venue-1",
            symbol=intent.symbol,
            side=side or intent.side,
            price=D(price),
            size=D(size) if size is not None else intent.size,
            fee=D(fee),
            ts_event_ns=self.clock.time_ns(),
            purpose=intent.purpose,
        )

    def position(self, symbol: str = "BTC-USD", quantity: str = "0.5") -> PositionChanged:
        return PositionChanged(
            **self._stamp(),
            correlation_id="fill-1",
            position=self.view(symbol, quantity),
            cause="fill",
            entry_fill_price=D("50000"),
        )

    @staticmethod
    def view(symbol: str = "BTC-USD", quantity: str = "0.5") -> PositionView:
        return PositionView(
            symbol=symbol,
            quantity=D(quantity),
            average_entry_price=D("50000"),
            contract_size=D(1),
            mark=D("50100"),
            realized_pnl=D(0),
            unrealized_pnl=D("50"),
            fees=D("1.25"),
            funding=D(0),
        )

    def state(
        self,
        state: TradingState,
        previous: TradingState | None = TradingState.ACTIVE,
        reasons: tuple[str, ...] = (),
    ) -> TradingStateChanged:
        return TradingStateChanged(
            **self._stamp(),
            state=state,
            previous=previous,
            reason=f"to {state.value}",
            reasons=reasons,
        )

    def snapshot(
        self, cycle: int, state: TradingState = TradingState.ACTIVE, reasons: tuple[str, ...] = ()
    ) -> RiskSnapshot:
        return RiskSnapshot(
            **self._stamp(),
            cycle=cycle,
            state=state,
            reasons=reasons,
            equity=D("10000"),
            realized_pnl=D(0),
            unrealized_pnl=D("50"),
            daily_pnl=D("50"),
            exposure=D("25050"),
            positions=(self.view(),),
        )

    def halt(self) -> Halt:
        return Halt(**self._stamp(), reason="maintenance", operator="alice")

    def reduce_only(self) -> ReduceOnly:
        return ReduceOnly(**self._stamp(), reason="winding down", operator="alice")

    def resume(self) -> Resume:
        return Resume(**self._stamp(), reason="done", operator="bob")

    def denial(self, intent: OrderIntent) -> OrderDenied:
        return OrderDenied(
            **self._stamp(),
            correlation_id=intent.message_id,
            intent_id=intent.intent_id,
            symbol=intent.symbol,
            rule="max_position_usd",
            reason="notional 12,400.00 USD exceeds max_position_usd 10,000 for BTC-USD",
        )

    def dry_run(self, intent: OrderIntent) -> DryRunOrder:
        return DryRunOrder(
            **self._stamp(),
            correlation_id=intent.message_id,
            intent_id=intent.intent_id,
            client_order_id=client_order_id(intent.intent_id),
            symbol=intent.symbol,
            request='{"product_id": "BTC-USD", "side": "BUY"}',
        )

    def funding(self, total: str = "-0.42", symbol: str = "BTC-USD") -> PositionChanged:
        """The portfolio booked the venue's funding: ``symbol``'s funding so far is ``total``."""
        return PositionChanged(
            **self._stamp(),
            correlation_id="account-1",
            position=attrs.evolve(self.view(symbol), funding=D(total)),
            cause=f"{FUNDING_CAUSE} {total} USD on {symbol}: the venue's accrued funding moved",
        )

    def reconciliation_started(self) -> ReconciliationStarted:
        return ReconciliationStarted(**self._stamp(), reason="startup")

    def reconciliation_completed(self) -> ReconciliationCompleted:
        return ReconciliationCompleted(
            **self._stamp(),
            success=True,
            startup=True,
            corrections=("BTC-USD position 0 -> 0.5 (venue)",),
        )

    def account(self) -> AccountReconciled:
        return AccountReconciled(
            **self._stamp(),
            equity=D("10025.5"),
            positions=(
                VenuePosition(
                    symbol="BTC-USD",
                    quantity=D("0.5"),
                    average_entry_price=D("50000"),
                    contract_size=D(1),
                ),
            ),
            liquidation_buffer_pct=D("0.35"),
            startup=True,
        )

    def reload(self) -> ConfigReloaded:
        return ConfigReloaded(
            **self._stamp(),
            source="SIGHUP",
            changed_keys=("risk.max_leverage",),
            restarted=(),
            notified=("bot/risk",),
        )

    def audit(self) -> OperatorActed:
        return OperatorActed(
            **self._stamp(), operator="alice", action="halt", detail="shell", outcome="ok"
        )
