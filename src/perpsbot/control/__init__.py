"""Operating a running bot: shell, status, metrics and health, reload from disk.

In-process, the same helpers the shell binds work on any actor system::

    from perpsbot.control import Operator
    ops = Operator(system)          # actors(), tree(), state(path), restart(path), help()
    ops.tree()

and on the bot with :class:`BotControl` (adds ``marks()``, ``feed()``, ``config()``,
``reload()``, ``status()``, ``health()``, ``threads()``, and the trading helpers
``trading()``, ``orders()``, ``positions()``, ``pnl()``, ``halt(reason)``,
``reduce_only(reason)``, ``resume(reason)``, ``cancel_all()``)::

    globals().update(BotControl(system, config=config).operator().namespace())
    marks()

``perpsbot run`` opens a :class:`ControlPlane`: a shell socket (``perpsbot shell``,
``perpsbot status``), ``/metrics``, ``/healthz`` and ``/readyz`` on 127.0.0.1, and a watch
on the configuration file.
"""

from perpsbot.control._bot import BotControl, BotOperator
from perpsbot.control._client import ShellClient
from perpsbot.control._health import Check, Health, escalation_absent, judge, no_actor_stuck
from perpsbot.control._http import MetricsServer
from perpsbot.control._journal import (
    JournalAudit,
    JournalCollector,
    journal_committing,
    sync_journal,
)
from perpsbot.control._market import MarketDataCollector, feed_section, marks_fresh
from perpsbot.control._metrics import REST_OUTCOMES, RestOutcomes, RuntimeCollector
from perpsbot.control._operator import AuditRecord, AuditSink, Operator, helper, log_audit
from perpsbot.control._plane import ControlPlane, socket_path
from perpsbot.control._reloader import ConfigReloader, ReloadOutcome
from perpsbot.control._server import Peer, ShellServer, peer_of
from perpsbot.control._session import Session
from perpsbot.control._status import StatusSection
from perpsbot.control._table import Table, Text
from perpsbot.control._threads import thread_dump
from perpsbot.control._trading import reconciliation_done, trading_section
from perpsbot.control._trading_metrics import TradingCollector
from perpsbot.control._trading_ops import TradingOperator
from perpsbot.control._watch import Observed, TradingWatch
from perpsbot.control._watcher import ConfigWatcher, file_signature

__all__ = [
    "REST_OUTCOMES",
    "AuditRecord",
    "AuditSink",
    "BotControl",
    "BotOperator",
    "Check",
    "ConfigReloader",
    "ConfigWatcher",
    "ControlPlane",
    "Health",
    "JournalAudit",
    "JournalCollector",
    "MarketDataCollector",
    "MetricsServer",
    "Observed",
    "Operator",
    "Peer",
    "ReloadOutcome",
    "RestOutcomes",
    "RuntimeCollector",
    "Session",
    "ShellClient",
    "ShellServer",
    "StatusSection",
    "Table",
    "Text",
    "TradingCollector",
    "TradingOperator",
    "TradingWatch",
    "escalation_absent",
    "feed_section",
    "file_signature",
    "helper",
    "journal_committing",
    "judge",
    "log_audit",
    "marks_fresh",
    "no_actor_stuck",
    "peer_of",
    "reconciliation_done",
    "socket_path",
    "sync_journal",
    "thread_dump",
    "trading_section",
]
