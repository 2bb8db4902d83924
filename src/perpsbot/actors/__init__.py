"""The trading actors. Each owns its state and talks only through messages."""

from perpsbot.actors._journal_state import JournalState
from perpsbot.actors.execution._inspection import ExecutorState, UserChannelStats, UserFeedState
from perpsbot.actors.execution.executor import ExecutorActor, executor_mailbox
from perpsbot.actors.execution.user_feed import UserFeedActor
from perpsbot.actors.journal import JournalActor, JournalMailbox, journal_mailbox
from perpsbot.actors.market_data._inspection import (
    LatestMark,
    MarkWindowState,
    PollerMode,
    QuotePollerState,
    StreamerState,
)
from perpsbot.actors.market_data.mark_window import (
    MarkWindowActor,
    mark_window_mailbox,
    window_length,
)
from perpsbot.actors.market_data.quote_poller import QuotePollerActor, poller_mailbox
from perpsbot.actors.market_data.streamer import CHANNELS, StreamerActor, streamer_mailbox
from perpsbot.actors.portfolio._inspection import PortfolioState
from perpsbot.actors.portfolio.portfolio import PortfolioActor
from perpsbot.actors.risk._inspection import RiskState
from perpsbot.actors.risk.risk import OperatorCommand, RiskActor, risk_mailbox
from perpsbot.actors.strategy._inspection import StrategyState
from perpsbot.actors.strategy.strategy import StrategyActor

__all__ = [
    "CHANNELS",
    "ExecutorActor",
    "ExecutorState",
    "JournalActor",
    "JournalMailbox",
    "JournalState",
    "LatestMark",
    "MarkWindowActor",
    "MarkWindowState",
    "OperatorCommand",
    "PollerMode",
    "PortfolioActor",
    "PortfolioState",
    "QuotePollerActor",
    "QuotePollerState",
    "RiskActor",
    "RiskState",
    "StrategyActor",
    "StrategyState",
    "StreamerActor",
    "StreamerState",
    "UserChannelStats",
    "UserFeedActor",
    "UserFeedState",
    "executor_mailbox",
    "journal_mailbox",
    "mark_window_mailbox",
    "poller_mailbox",
    "risk_mailbox",
    "streamer_mailbox",
    "window_length",
]
