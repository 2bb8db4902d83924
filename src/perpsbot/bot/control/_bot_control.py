"""The control plane of the bot: its health checks, metrics, status and shell helpers.

:class:`BotControl` is the one place that lists what the control plane knows of the bot. To
cover new actors, add their health checks to :meth:`BotControl.checks`, their Prometheus
collectors to :meth:`BotControl.collectors`, their status lines to
:meth:`BotControl.sections`, and ``@helper`` methods to :class:`BotOperator` (operator
actions with ``@helper(action=True)``, which audits them). The trading actors' part lives in
``_trading*.py`` and ``_journal.py``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from prometheus_client.registry import Collector

from perpsbot import __version__
from perpsbot.actors import MarkWindowState
from perpsbot.bot import ROOT
from perpsbot.bot.control._journal import (
    JournalAudit,
    JournalCollector,
    journal_committing,
    journal_section,
)
from perpsbot.bot.control._market import (
    MarketDataCollector,
    feed_report,
    feed_section,
    mark_table,
    marks_fresh,
)
from perpsbot.bot.control._trading_metrics import TradingCollector
from perpsbot.bot.control._trading_operator import TradingOperator
from perpsbot.bot.control._trading_views import reconciliation_done, trading_section
from perpsbot.bot.control._trading_watch import TradingWatch
from perpsbot.config import BotConfig, render_toml
from perpsbot.control import (
    AuditSink,
    Check,
    ConfigReloader,
    Health,
    ReloadOutcome,
    RuntimeCollector,
    StatusSection,
    Text,
    build_status,
    escalation_absent,
    helper,
    judge,
    no_actor_stuck,
    render_status,
    thread_dump,
)
from perpsbot.errors import PerpsbotError
from perpsbot.runtime import ActorSystem

__all__ = ["BotControl", "BotOperator"]

#: An actor with queued work that has handled nothing for this long is stuck. Generous: the
#: watchdog replaces a hung actor first, and a REST poll may retry for several timeouts.
STUCK_AFTER_S = 60.0
#: A journal holding uncommitted events that has committed nothing for this long is stuck
#: (it retries a failed commit for about 4 s, then restarts and tries again).
JOURNAL_STALLED_AFTER_S = 30.0


class BotControl:
    """What the control plane knows of one running bot, and how it steers it.

    Args:
        system: the bot's actor system.
        config: the configuration it runs with.
        load: reads the configuration again (None: :meth:`reload` is unavailable).
        prepare: run with a new configuration before it is applied (see
            :class:`ConfigReloader`).
        settle: run with a configuration after it was applied.
        config_file: the file ``load`` reads, shown by status.
        root: the path of the bot's supervisor.
        audit: where operator actions are recorded (default: logged, and journaled as
            ``OperatorActed`` by the bot's journal actor).

    It subscribes to the trading actors at once (see :class:`TradingWatch`): create it
    before the tree starts to count every order; :meth:`close` ends the subscription.
    """

    def __init__(
        self,
        system: ActorSystem,
        *,
        config: BotConfig,
        load: Callable[[], BotConfig] | None = None,
        prepare: Sequence[Callable[[BotConfig], Any]] = (),
        settle: Sequence[Callable[[BotConfig], Any]] = (),
        config_file: Path | None = None,
        root: str = ROOT,
        audit: AuditSink | None = None,
    ) -> None:
        self.system = system
        self.root = root
        self.audit = audit if audit is not None else JournalAudit(system, f"{root}/journal")
        self.config_file = config_file
        self.endpoints: dict[str, str] = {}
        """Where the daemon can be reached (``socket``, ``metrics``), filled in as they open."""
        self._config = config
        self._reloader = (
            None
            if load is None
            else ConfigReloader(system, load=load, current=config, prepare=prepare, settle=settle)
        )
        self._started = system.clock.monotonic()
        self.watch = TradingWatch(system, root, journal_file=config.journal.path)
        """What the trading actors publish, for the helpers, the status and the metrics."""
        self.watch.open()
        # Built once: a check that judges progress remembers what it saw at the last look.
        self._checks = self.checks()
        self._judging = threading.Lock()  # probes, status and the shell judge concurrently

    def close(self) -> None:
        """End the subscriptions to the trading actors."""
        self.watch.close()

    @property
    def config(self) -> BotConfig:
        """The configuration the bot runs with now."""
        return self._config if self._reloader is None else self._reloader.config

    def reload(self, trigger: str) -> ReloadOutcome:
        """Load the configuration again and apply it (see :class:`ConfigReloader`)."""
        if self._reloader is None:
            raise PerpsbotError("this bot was given no way to load its configuration again")
        return self._reloader.reload(trigger)

    # -- the extension points --------------------------------------------------------------

    def checks(self) -> list[Check]:
        """Health checks: liveness from the runtime and the journal's commits, readiness
        from fresh marks and the executor's startup reconciliation. Called once, at
        construction: a check may keep what it saw last time (progress is judged between
        looks)."""
        system, root = self.system, self.root
        return [
            escalation_absent(system),
            no_actor_stuck(system, stuck_after_s=STUCK_AFTER_S),
            journal_committing(system, f"{root}/journal", stalled_after_s=JOURNAL_STALLED_AFTER_S),
            marks_fresh(system, root),
            reconciliation_done(system, root),
        ]

    def collectors(self) -> list[Collector]:
        """Prometheus collectors (REST calls by outcome are counted by the daemon's hook)."""
        system, root = self.system, self.root
        return [
            RuntimeCollector(system),
            MarketDataCollector(system, root),
            TradingCollector(system, root, self.watch),
            JournalCollector(system, f"{root}/journal"),
        ]

    def sections(self) -> list[StatusSection]:
        """Status lines beyond the actor table."""
        return [
            feed_section(self.system, self.root),
            trading_section(self.system, self.root, self.watch),
            journal_section(self.system, f"{self.root}/journal"),
        ]

    # -- derived ---------------------------------------------------------------------------

    def health(self) -> Health:
        with self._judging:
            return judge(self._checks)

    def status(self) -> dict[str, Any]:
        """The status document (``perpsbot status --json``)."""
        config = self.config
        about = {
            "version": __version__,
            "pid": os.getpid(),
            "profile": config.profile.value,
            "uptime_s": self.system.clock.monotonic() - self._started,
            "config_file": None if self.config_file is None else str(self.config_file),
            "journal": str(config.journal.path),
            "endpoints": dict(self.endpoints),
        }
        return build_status(
            self.system, about=about, health=self.health(), sections=self.sections()
        )

    def render(self, status: Mapping[str, Any]) -> str:
        """``status`` as text (``perpsbot status``)."""
        return render_status(status, self.sections())

    def redact(self, text: str) -> str:
        """``text`` with every fragment of the configured private key replaced (the shell's
        last line of defence: helpers never show it, but any Python runs there)."""
        credentials = self.config.venue.credentials
        if credentials is None:
            return text
        pem = credentials.private_key_pem.replace("\\n", "\n")
        for line in pem.splitlines():  # the base64 body: every line of it is secret
            body = line.strip()
            if len(body) >= 16 and not body.startswith("-----"):
                text = text.replace(body, "<redacted>")
        return text

    def operator(self, who: str = "in-process") -> BotOperator:
        """Helpers bound to this bot, acting as ``who`` in the audit."""
        return BotOperator(self, operator=who)


class BotOperator(TradingOperator):
    """The shell's helpers for the bot: the generic ones (``actors()``, ``tree()``,
    ``state(path)``, ``restart(path)``, ``crash(path, reason)``), the trading ones
    (``trading()``, ``orders()``, ``positions()``, ``pnl()``, ``halt()``, ``reduce_only()``,
    ``resume()``, ``cancel_all()``) and ``marks()``, ``feed()``, ``config()``, ``reload()``,
    ``status()``, ``health()``, ``threads()``."""

    def __init__(self, control: BotControl, *, operator: str = "in-process") -> None:
        super().__init__(
            control.system,
            root=control.root,
            watch=control.watch,
            journal_file=control.config.journal.path,
            operator=operator,
            audit=control.audit,
        )
        self.control = control

    @helper
    def marks(self, symbol: str | None = None) -> Any:
        """Each symbol's latest mark, source, age and window; one symbol's with its window."""
        state = self._state("marks", MarkWindowState)
        if symbol is None:
            return mark_table(state)
        if symbol not in state.symbols:
            raise KeyError(f"{symbol!r} is not a configured symbol; they are {list(state.symbols)}")
        latest = state.latest.get(symbol)
        seen: dict[str, Any] = {}
        if latest is not None:
            seen = {"mark": str(latest.mark), "source": latest.source.value, "age_s": latest.age_s}
        window = [str(mark) for mark in state.windows.get(symbol, ())]
        return {"symbol": symbol, **seen, "window": window}

    @helper
    def feed(self) -> Any:
        """The feed: state, reconnects, gaps, frames, data age, lag; and the poller's mode."""
        return feed_report(self.system, self.control.root)

    @helper
    def config(self) -> Text:
        """The running configuration as TOML (credentials are never shown)."""
        source = self.control.config_file or "profile defaults and environment"
        return Text(f"# running configuration (from {source})\n{render_toml(self.control.config)}")

    @helper(action=True)
    def reload(self) -> Text:
        """Reload the configuration file, like SIGHUP (audited)."""
        return Text(self.control.reload(f"shell {self.operator}").describe())

    @helper
    def status(self) -> Text:
        """What ``perpsbot status`` prints."""
        return Text(self.control.render(self.control.status()))

    @helper
    def health(self) -> Health:
        """Liveness and readiness, with what is wrong."""
        return self.control.health()

    @helper
    def threads(self) -> Text:
        """Every thread's stack, actor threads named by their actor (like SIGUSR1)."""
        return Text(thread_dump())
