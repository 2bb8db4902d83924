"""The bot's actor tree: which actors, in which order, built from which config keys, and who is
told what each of them publishes (``WIRING``, the one declaration of it)."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

from perpsbot.actors import (
    ExecutorActor,
    JournalActor,
    MarkWindowActor,
    PortfolioActor,
    QuotePollerActor,
    RiskActor,
    StrategyActor,
    StreamerActor,
    UserFeedActor,
    executor_mailbox,
    journal_mailbox,
    mark_window_mailbox,
    poller_mailbox,
    risk_mailbox,
    streamer_mailbox,
)
from perpsbot.bot._reporter import ConsoleReporter
from perpsbot.bot._sections import every_key, keys
from perpsbot.bot._venue import VENUE_LINK, VenueLinks
from perpsbot.config import BotConfig
from perpsbot.messages import (
    AccountReconciled,
    DryRunOrder,
    FeedStatusChanged,
    MarksSampled,
    OrderDenied,
    OrderFilled,
    OrderUpdated,
    PendingMark,
    PortfolioValued,
    PositionChanged,
    ProductsLoaded,
    ReconciliationCompleted,
    ReconciliationStarted,
    RiskSnapshot,
    SignalsEvaluated,
    StopMoved,
    TradingStateChanged,
)
from perpsbot.runtime import (
    ActorAddress,
    ActorContext,
    ChildSpec,
    Coalescer,
    CommandMailbox,
    ConflatingMailbox,
    Intensity,
    RestartStrategy,
    SupervisorSpec,
    Wiring,
)
from perpsbot.venue.link import VenueLink, longest_rest_call_s
from perpsbot.venue.recorder import FeedRecorder

__all__ = ["WIRING", "bot_spec", "executor_hang_timeout_s"]

ROOT = "bot"

_JOURNAL_LIVE = keys("journal", "synchronous", "risk_snapshot_interval_s")
_JOURNAL = keys("journal", "path") | _JOURNAL_LIVE
# Risk applies every setting it reads live; a new journal file is read by a new incarnation.
_RISK_LIVE = every_key("risk") | keys("market_data", "symbols")
_RISK = _RISK_LIVE | keys("journal", "path")
_EXECUTOR = (
    every_key("execution") | keys("market_data", "symbols") | keys("journal", "path") | {VENUE_LINK}
)
# The portfolio reads a new journal file in a new incarnation; nothing else configures it.
_PORTFOLIO = keys("journal", "path")
_MARKS = keys("market_data", "symbols", "update_interval_s", "stale_after_s", "short_ma", "long_ma")
_STRATEGY = (
    every_key("strategy")
    | keys("market_data", "short_ma", "long_ma")
    | keys("execution", "intent_ttl_s")
    | keys("journal", "path")  # read back at a cold start
)
_STREAMER = keys("market_data", "symbols", "streaming", "channel", "stale_after_s") | {VENUE_LINK}
_USER_FEED = keys("market_data", "symbols") | keys("execution", "dry_run") | {VENUE_LINK}
_POLLER = keys("market_data", "symbols", "streaming", "poll_interval_s") | {VENUE_LINK}
# The summary line's margin use takes a future without margin rates at the leverage cap.
_REPORTER = keys("risk", "max_leverage", "max_leverage_per_symbol")

# Who is told what: the runtime keeps these subscriptions from the first start on, across
# every restart, so none depends on the order in which actors start. Names absent from a
# tree (the reporter of a tree without one) are left out by ``WIRING.only``.
_ORDER_EVENTS = ("risk", "strategy", "journal", "reporter")
_RISK_PUBLISHES: Mapping[type, Sequence[str]] = {
    TradingStateChanged: ("executor", "strategy", "journal", "reporter"),
    RiskSnapshot: ("strategy", "journal", "reporter"),
    OrderDenied: ("strategy", "journal", "reporter"),
}
# The executor is told a position last: whoever it then tells an order settled was told the
# position change first (one sender's tells arrive in order).
_PORTFOLIO_PUBLISHES: Mapping[type, Sequence[str]] = {
    PositionChanged: ("risk", "strategy", "journal", "reporter", "executor"),
    PortfolioValued: ("risk", "executor"),  # the executor: its answer to a reconciliation
    OrderFilled: ("journal", "reporter"),  # a fill of reconciliation's sweep, once booked
}
_EXECUTOR_PUBLISHES: Mapping[type, Sequence[str]] = {
    OrderUpdated: _ORDER_EVENTS,
    OrderFilled: ("portfolio", "journal", "reporter"),
    DryRunOrder: _ORDER_EVENTS,
    OrderDenied: _ORDER_EVENTS,
    ProductsLoaded: ("risk", "strategy", "reporter"),
    ReconciliationStarted: ("risk", "journal"),
    ReconciliationCompleted: ("risk", "journal", "reporter"),
    AccountReconciled: ("portfolio", "risk", "journal", "reporter"),
}
_STRATEGY_PUBLISHES: Mapping[type, Sequence[str]] = {
    SignalsEvaluated: ("reporter",),
    StopMoved: ("journal",),
}

_MARKS_PUBLISHES: Mapping[type, Sequence[str]] = {
    MarksSampled: ("portfolio", "risk", "strategy", "reporter"),
}
# The feed's state is a ``latest`` topic: the poller and the reporter, restarted without the
# streamer, are told its current state as they start.
_STREAMER_PUBLISHES: Mapping[type, Sequence[str]] = {
    FeedStatusChanged: ("risk", "poller", "reporter"),
}

#: Who each publisher of the tree tells what, by child name (in the order they are told):
#: the tree's wiring, declared once; test trees take a view of it (``WIRING.only(names)``).
WIRING = Wiring.of(
    {
        "portfolio": _PORTFOLIO_PUBLISHES,
        "risk": _RISK_PUBLISHES,
        "executor": _EXECUTOR_PUBLISHES,
        "marks": _MARKS_PUBLISHES,
        "strategy": _STRATEGY_PUBLISHES,
        "streamer": _STREAMER_PUBLISHES,
    },
    latest=(FeedStatusChanged,),
)

#: REST calls one executor handler may make at worst (a startup reconciliation reads orders,
#: fills, the sweep's fills, balances and positions), for its watchdog allowance.
_EXECUTOR_CALLS = 5


def executor_hang_timeout_s(config: BotConfig) -> float:
    """How long the executor may leave a watchdog ping unanswered: its REST calls block its
    thread (a reconciliation makes several, each with retries), and a slow venue is not a
    hung executor."""
    return config.runtime.watchdog_timeout_s + _EXECUTOR_CALLS * longest_rest_call_s(
        config.venue.request_timeout_s
    )


def _reporter_key(message: Any) -> Hashable | None:
    # Only the feed's state conflates: every cycle's parts and every order line are printed.
    return "feed state" if type(message) is FeedStatusChanged else None


def bot_spec(
    config: BotConfig,
    venue: VenueLink | VenueLinks,
    *,
    report: bool = False,
    recorder: FeedRecorder | None = None,
    risk_check_interval_s: float = 1.0,
    disposable_journal: bool = False,
) -> SupervisorSpec:
    """The tree under the ``bot`` supervisor (rest_for_one: later actors use earlier ones).

    journal, portfolio, risk, executor, marks, strategy, streamer, poller, userfeed, then the
    reporter: a crash restarts the actor and every one after it, so the journal outlives them
    all, the portfolio (positions) outlives risk, risk (the trading state) outlives the
    executor and the strategy, and a new executor gets a new user channel (whose first frame
    makes it read what it missed), while the user channel's own crash restarts only itself.

    Args:
        config: sizes the restart intensity, mailboxes and timeouts (the executor's command
            mailbox keeps the ``execution.max_pending_orders`` of the first start).
        venue: the venue link every venue-facing actor shares; with :class:`VenueLinks`, a
            reload that changes ``venue.*`` (or ``sim.*`` of an embedded exchange) restarts
            the actors that use the venue on a new link.
        report: add a console reporter that prints each cycle (``perpsbot run``).
        recorder: takes what the market-data feed and the quote poller receive
            (``perpsbot run --record FILE``); it outlives their restarts.
        risk_check_interval_s: how often risk re-checks mark ages and the day between
            samples (a backtest of minute bars needs it only every half bar).
        disposable_journal: the journal is a backtest's, made again by a rerun: never synced
            to disk (``JournalActor(disposable=True)``).
    """
    runtime = config.runtime
    names = {
        "journal", "portfolio", "risk", "executor", "marks", "strategy", "streamer", "poller",
        "userfeed",
    }  # fmt: skip
    if report:
        names.add("reporter")
    # The feed thread offers marks here and the mark window takes them: shared by
    # construction, outliving both actors' restarts (its wake-up is a plain token).
    feed_marks: Coalescer[str, PendingMark] = Coalescer("feed-marks")

    def link(ctx: ActorContext) -> VenueLink:
        return venue.link_for(ctx.config) if isinstance(venue, VenueLinks) else venue

    def at(ctx: ActorContext, name: str) -> ActorAddress:
        return ctx.system.address(f"{ROOT}/{name}")

    def journal(ctx: ActorContext) -> JournalActor:
        return JournalActor(context=ctx, disposable=disposable_journal)

    def portfolio(ctx: ActorContext) -> PortfolioActor:
        return PortfolioActor(context=ctx, journal=at(ctx, "journal"))

    def risk(ctx: ActorContext) -> RiskActor:
        return RiskActor(
            context=ctx,
            executor=at(ctx, "executor"),
            journal=at(ctx, "journal"),
            watch=[f"{ROOT}/executor", f"{ROOT}/streamer"],
            check_interval_s=risk_check_interval_s,
        )

    def executor(ctx: ActorContext) -> ExecutorActor:
        return ExecutorActor(
            context=ctx,
            venue=link(ctx),
            journal=at(ctx, "journal"),
        )

    def marks(ctx: ActorContext) -> MarkWindowActor:
        return MarkWindowActor(context=ctx, feed_marks=feed_marks)

    def strategy(ctx: ActorContext) -> StrategyActor:
        return StrategyActor(
            context=ctx,
            risk=at(ctx, "risk"),
            journal=at(ctx, "journal"),
        )

    def streamer(ctx: ActorContext) -> StreamerActor:
        return StreamerActor(
            context=ctx,
            venue=link(ctx),
            feed_marks=feed_marks,
            recorder=recorder,
        )

    # A polling round is REST calls with retries, all within this together (the poller
    # bounds each round by it), and the watchdog allows the poller this long: a slow venue
    # is never a hung poller. Fixed at start-up, as the hang timeout is.
    poll_round_s = longest_rest_call_s(config.venue.request_timeout_s)

    def poller(ctx: ActorContext) -> QuotePollerActor:
        return QuotePollerActor(
            context=ctx,
            venue=link(ctx),
            marks=at(ctx, "marks"),
            round_s=poll_round_s,
            recorder=recorder,
        )

    def userfeed(ctx: ActorContext) -> UserFeedActor:
        return UserFeedActor(context=ctx, venue=link(ctx), executor=at(ctx, "executor"))

    def reporter(ctx: ActorContext) -> ConsoleReporter:
        return ConsoleReporter(context=ctx)

    timeout_s = runtime.shutdown_timeout_s
    rest_call_s = longest_rest_call_s(config.venue.request_timeout_s)
    # What the journal, risk, the executor and the strategy are told while they restart is
    # kept for them: fills and order events are never dropped, so their buffers are large.
    events_buffer = max(100_000, runtime.restart_buffer_capacity)

    def reporter_mailbox() -> ConflatingMailbox:
        # The feed's state is a status: the latest wins, so a reconnect storm never queues
        # lines for a slow console. Cycles and order lines are all printed, in order.
        return ConflatingMailbox(key_of=_reporter_key)

    def orders() -> CommandMailbox:
        return executor_mailbox(config.execution.max_pending_orders)

    children = [
        ChildSpec(
            name="journal",
            factory=journal,
            mailbox=journal_mailbox,
            config_sections=_JOURNAL,
            live_sections=_JOURNAL_LIVE,
            shutdown_timeout_s=timeout_s + 5.0,  # journals what is still queued
            hang_timeout_s=runtime.watchdog_timeout_s + 5.0,  # a commit retries for ~4 s
            restart_buffer=events_buffer,
        ),
        ChildSpec(
            name="portfolio",
            factory=portfolio,
            config_sections=_PORTFOLIO,
            shutdown_timeout_s=timeout_s,
            restart_buffer=events_buffer,
        ),
        ChildSpec(
            name="risk",
            factory=risk,
            mailbox=risk_mailbox,
            config_sections=_RISK,
            live_sections=_RISK_LIVE,
            shutdown_timeout_s=timeout_s,
            restart_buffer=events_buffer,
        ),
        ChildSpec(
            name="executor",
            factory=executor,
            mailbox=orders,
            config_sections=_EXECUTOR,
            shutdown_timeout_s=timeout_s + rest_call_s,  # may be mid-request
            hang_timeout_s=executor_hang_timeout_s(config),
            restart_buffer=events_buffer,
        ),
        ChildSpec(
            name="marks",
            factory=marks,
            mailbox=mark_window_mailbox,
            config_sections=_MARKS,
            live_sections=_MARKS,
            shutdown_timeout_s=timeout_s,
            restart_buffer=runtime.restart_buffer_capacity,
        ),
        ChildSpec(
            name="strategy",
            factory=strategy,
            config_sections=_STRATEGY,
            live_sections=_STRATEGY,
            shutdown_timeout_s=timeout_s,
            restart_buffer=events_buffer,
        ),
        ChildSpec(
            name="streamer",
            factory=streamer,
            mailbox=streamer_mailbox,
            config_sections=_STREAMER,
            shutdown_timeout_s=timeout_s + 5.0,  # joins the feed thread
            hang_timeout_s=runtime.watchdog_timeout_s + 5.0,  # replacing a feed joins it
            restart_buffer=runtime.restart_buffer_capacity,
        ),
        ChildSpec(
            name="poller",
            factory=poller,
            mailbox=poller_mailbox,
            config_sections=_POLLER,
            shutdown_timeout_s=timeout_s + poll_round_s,  # may be mid-round
            hang_timeout_s=runtime.watchdog_timeout_s + poll_round_s,
            restart_buffer=runtime.restart_buffer_capacity,
        ),
        ChildSpec(
            name="userfeed",
            factory=userfeed,
            config_sections=_USER_FEED,
            shutdown_timeout_s=timeout_s + 5.0,  # joins the feed thread
            restart_buffer=runtime.restart_buffer_capacity,
        ),
    ]
    if report:
        children.append(
            ChildSpec(
                name="reporter",
                factory=reporter,
                mailbox=reporter_mailbox,
                config_sections=_REPORTER,
                live_sections=_REPORTER,
                shutdown_timeout_s=timeout_s,
            )
        )
    return SupervisorSpec(
        name=ROOT,
        strategy=RestartStrategy.REST_FOR_ONE,
        intensity=Intensity(max_restarts=runtime.max_restarts, window_s=runtime.restart_window_s),
        children=tuple(children),
        wiring=WIRING.only(names),
        shutdown_timeout_s=sum(child.shutdown_timeout_s for child in children) + timeout_s,
    )
