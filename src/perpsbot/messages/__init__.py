"""Messages between actors: frozen, keyword-only attrs classes, one module per domain.

Commands are imperative, events past tense. Every message carries ``message_id`` and
``ts_created_ns`` (wall clock), stamped by a :class:`Stamper` from the injected clock and ids;
replies and caused events carry ``correlation_id``.

- :mod:`~perpsbot.messages.market`: marks, samples and the feed's health.
- :mod:`~perpsbot.messages.feed`: the feed thread's connection events and counters.
- :mod:`~perpsbot.messages.orders`: intents, risk's verdict, executor commands and events.
- :mod:`~perpsbot.messages.risk`: the trading state, positions, PnL, operator commands.
- :mod:`~perpsbot.messages.account`: products, reconciliation and account state.
- :mod:`~perpsbot.messages.journal`: the write-ahead handshake and audit records.
- :mod:`~perpsbot.messages.strategy`: the strategy's signals, for people.
"""

from perpsbot.messages._base import ReplyTo, Stamper
from perpsbot.messages.account import (
    AccountReconciled,
    FundingPaid,
    ProductsLoaded,
    ProductSpec,
    ReconciliationCompleted,
    ReconciliationStarted,
    VenuePosition,
)
from perpsbot.messages.feed import (
    CheckFeedSilence,
    FeedConnected,
    FeedDisconnected,
    FeedErrorReceived,
    FeedGapDetected,
    FeedLag,
    FeedReconnecting,
    FeedStale,
    FeedStats,
    FeedStatus,
    FeedStopped,
    FeedSubscribed,
    MarketDataReported,
    MarketDataResumed,
)
from perpsbot.messages.journal import (
    ConfigReloaded,
    IntentRecorded,
    JournalSynced,
    OperatorActed,
    RecordIntent,
    SyncJournal,
)
from perpsbot.messages.market import (
    FeedState,
    FeedStatusChanged,
    MarkObserved,
    MarkSample,
    MarkSource,
    MarksSampled,
    PendingMark,
    PollQuotes,
    SampleMarks,
)
from perpsbot.messages.orders import (
    CancelAllOrders,
    CancelOrder,
    DryRunOrder,
    IntentPurpose,
    OrderDenied,
    OrderFilled,
    OrderIntent,
    OrderStatus,
    OrderType,
    OrderUpdated,
    PlaceOrder,
    Side,
    TimeInForce,
    TransitionSource,
)
from perpsbot.messages.risk import (
    Halt,
    PositionChanged,
    PositionView,
    ReduceOnly,
    Resume,
    RiskSnapshot,
    TradingState,
    TradingStateChanged,
)
from perpsbot.messages.strategy import Signal, SignalsEvaluated, SymbolSignal

__all__ = [
    "AccountReconciled",
    "CancelAllOrders",
    "CancelOrder",
    "CheckFeedSilence",
    "ConfigReloaded",
    "DryRunOrder",
    "FeedConnected",
    "FeedDisconnected",
    "FeedErrorReceived",
    "FeedGapDetected",
    "FeedLag",
    "FeedReconnecting",
    "FeedStale",
    "FeedState",
    "FeedStats",
    "FeedStatus",
    "FeedStatusChanged",
    "FeedStopped",
    "FeedSubscribed",
    "FundingPaid",
    "Halt",
    "IntentPurpose",
    "IntentRecorded",
    "JournalSynced",
    "MarkObserved",
    "MarkSample",
    "MarkSource",
    "MarketDataReported",
    "MarketDataResumed",
    "MarksSampled",
    "OperatorActed",
    "OrderDenied",
    "OrderFilled",
    "OrderIntent",
    "OrderStatus",
    "OrderType",
    "OrderUpdated",
    "PendingMark",
    "PlaceOrder",
    "PollQuotes",
    "PositionChanged",
    "PositionView",
    "ProductSpec",
    "ProductsLoaded",
    "ReconciliationCompleted",
    "ReconciliationStarted",
    "RecordIntent",
    "ReduceOnly",
    "ReplyTo",
    "Resume",
    "RiskSnapshot",
    "SampleMarks",
    "Side",
    "Signal",
    "SignalsEvaluated",
    "Stamper",
    "SymbolSignal",
    "SyncJournal",
    "TimeInForce",
    "TradingState",
    "TradingStateChanged",
    "TransitionSource",
    "VenuePosition",
]
