"""Builders for the trading tests: samples, products, intents, fills and configurations."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any, TypeVar

import attrs

from perpsbot.config import BotConfig, MarketDataConfig, RiskConfig, StrategyConfig
from perpsbot.ids import SequentialIds
from perpsbot.messages import (
    AccountReconciled,
    BookRead,
    FuturesAccount,
    Halt,
    IntentPurpose,
    JournalSynced,
    MarkSample,
    MarkSource,
    MarksSampled,
    OperatorStateRead,
    OrderFilled,
    OrderIntent,
    OrdersRead,
    OrderType,
    ProductsLoaded,
    ProductSpec,
    ReadBook,
    ReadOperatorState,
    ReadOrders,
    ReconciliationCompleted,
    ReduceOnly,
    Resume,
    Side,
    SyncJournal,
    VenuePosition,
)
from perpsbot.runtime import ActorContext, BaseActor, ChildSpec
from perpsbot.runtime.testing import Probe
from tests.runtime.conftest import Block, Crash

D = Decimal
T = TypeVar("T")
_ids = SequentialIds("t")


def bot_config(
    *,
    symbols: Sequence[str] = ("BTC-USD",),
    short_ma: int = 2,
    long_ma: int = 3,
    risk: dict[str, Any] | None = None,
    strategy: dict[str, Any] | None = None,
) -> BotConfig:
    return BotConfig(
        market_data=MarketDataConfig(
            symbols=tuple(symbols), short_ma=short_ma, long_ma=long_ma, stale_after_s=15.0
        ),
        risk=RiskConfig(**(risk or {})),
        strategy=StrategyConfig(**(strategy or {})),
    )


def spot(symbol: str = "BTC-USD", **changes: Any) -> ProductSpec:
    fields: dict[str, Any] = {
        "symbol": symbol,
        "is_future": False,
        "contract_size": D(1),
        "base_increment": D("0.00000001"),
        "price_increment": D("0.01"),
        "base_min_size": D("0.00000001"),
        "min_notional": D(1),
        "max_leverage": None,
    }
    return ProductSpec(**{**fields, **changes})


def future(symbol: str = "BIP-20DEC30-CDE", **changes: Any) -> ProductSpec:
    fields: dict[str, Any] = {
        "symbol": symbol,
        "is_future": True,
        "contract_size": D("0.01"),
        "base_increment": D(1),
        "price_increment": D(5),
        "base_min_size": D(1),
        "min_notional": None,
        "max_leverage": D(10),
    }
    return ProductSpec(**{**fields, **changes})


def sample(
    window: Iterable[Decimal | int | str],
    *,
    symbol: str = "BTC-USD",
    stale: bool = False,
    age_s: float | None = 0.5,
) -> MarkSample:
    marks = tuple(D(str(m)) for m in window)
    return MarkSample(
        symbol=symbol,
        mark=marks[-1] if marks else None,
        source=MarkSource.STREAM if marks else None,
        age_s=age_s if marks else None,
        stale=stale,
        window=marks,
    )


def sampled(cycle: int, *samples: MarkSample, ts_ns: int = 0) -> MarksSampled:
    return MarksSampled(
        message_id=_ids.next_id(), ts_created_ns=ts_ns, cycle=cycle, samples=tuple(samples)
    )


def intent(
    side: Side = Side.BUY,
    size: Decimal | str | int = "0.1",
    *,
    symbol: str = "BTC-USD",
    purpose: IntentPurpose = IntentPurpose.ENTRY,
    limit: Decimal | str | None = None,
    valid_until_ns: int = 2**62,
    leverage: Decimal | None = None,
    intent_id: str | None = None,
) -> OrderIntent:
    return OrderIntent(
        message_id=_ids.next_id(),
        ts_created_ns=0,
        intent_id=intent_id or _ids.next_id(),
        symbol=symbol,
        side=side,
        size=D(str(size)),
        order_type=OrderType.MARKET if limit is None else OrderType.LIMIT,
        limit_price=None if limit is None else D(str(limit)),
        purpose=purpose,
        leverage=leverage,
        reference_mark=D(100),
        reason="test",
        valid_until_ns=valid_until_ns,
    )


def fill(
    side: Side,
    size: Decimal | str | int,
    price: Decimal | str | int,
    *,
    symbol: str = "BTC-USD",
    fee: Decimal | str = "0",
    contract_size: Decimal | str = "1",
    fill_id: str | None = None,
    intent_id: str = "i-1",
) -> OrderFilled:
    return OrderFilled(
        message_id=_ids.next_id(),
        ts_created_ns=0,
        correlation_id="c",
        fill_id=fill_id or _ids.next_id(),
        intent_id=intent_id,
        client_order_id="pb-1",
        venue_order_id="v-1",
        symbol=symbol,
        side=side,
        price=D(str(price)),
        size=D(str(size)),
        fee=D(str(fee)),
        contract_size=D(str(contract_size)),
        ts_event_ns=0,
    )


def evolve_risk(config: BotConfig, **changes: Any) -> BotConfig:
    return attrs.evolve(config, risk=attrs.evolve(config.risk, **changes))


# -- actors and messages for small trees ------------------------------------------------------


class Recorder(BaseActor):
    """Stands in for the executor, the journal or a subscriber: records what it is told.

    It answers ``SyncJournal`` and the reads (``ReadBook``, ``ReadOrders``,
    ``ReadOperatorState``) like the journal of an empty file does, can be made to raise
    (``Crash``) and to block its thread until released (``Block``), so a test can fill its
    mailbox.
    """

    def __init__(self, *, context: ActorContext, probe: Probe) -> None:
        super().__init__(context=context)
        self.probe = probe

    def on_receive(self, message: Any) -> None:
        match message:
            case Crash(error=error):
                raise error
            case Block(release=release, entered=entered):
                entered.set()
                release.wait(10)
            case SyncJournal(reply_to=reply_to):
                self.probe.record(message)
                reply_to.tell(JournalSynced(**_stamp(), correlation_id=message.message_id))
            case ReadBook() | ReadOrders() | ReadOperatorState():
                self.probe.record(message)
                answer = _EMPTY_READS[type(message)]
                message.reply_to.tell(answer(**_stamp(), correlation_id=message.message_id))
            case _:
                self.probe.record(message)


_EMPTY_READS: dict[type, type] = {
    ReadBook: BookRead,
    ReadOrders: OrdersRead,
    ReadOperatorState: OperatorStateRead,
}


def recorder_spec(name: str, probe: Probe, **spec: Any) -> ChildSpec:
    return ChildSpec(name=name, factory=lambda ctx: Recorder(context=ctx, probe=probe), **spec)


def _stamp() -> dict[str, Any]:
    return {"message_id": _ids.next_id(), "ts_created_ns": 0}


def reconciled(success: bool = True, error: str = "") -> ReconciliationCompleted:
    return ReconciliationCompleted(**_stamp(), success=success, startup=True, error=error)


def account(
    equity: Decimal | int | None = 10_000,
    *positions: VenuePosition,
    liquidation_buffer_pct: Decimal | None = None,
    futures: FuturesAccount | None = None,
) -> AccountReconciled:
    return AccountReconciled(
        **_stamp(),
        equity=None if equity is None else D(equity),
        positions=positions,
        liquidation_buffer_pct=liquidation_buffer_pct,
        futures=futures,
    )


def products(*specs: ProductSpec) -> ProductsLoaded:
    return ProductsLoaded(**_stamp(), products=specs or (spot(),))


def command(
    kind: type[Halt | ReduceOnly | Resume], reason: str = "test", operator: str = "alice"
) -> Any:
    return kind(**_stamp(), reason=reason, operator=operator)


def of_type(probe: Probe, kind: type[T], predicate: Callable[[T], bool] = lambda _: True) -> T:
    """Wait for the first message of ``kind`` matching ``predicate`` and return it."""

    def found(events: list[Any]) -> bool:
        return any(isinstance(e, kind) and predicate(e) for e in events)

    events = probe.wait_for(found, what=f"a {kind.__name__}")
    return next(e for e in events if isinstance(e, kind) and predicate(e))


def all_of_type(probe: Probe, kind: type[T]) -> list[T]:
    return [e for e in probe.events if isinstance(e, kind)]
