"""Operating the running bot: its trading views plugged into the generic control plane.

:mod:`perpsbot.control` works on any actor system; this package adds what is the bot's own:
:class:`BotControl` lists the bot's health checks, Prometheus collectors and status sections,
and :class:`BotOperator` the shell's helpers (``marks()``, ``feed()``, ``config()``,
``reload()``, ``status()``, ``health()``, ``threads()``, and the trading helpers
``trading()``, ``orders()``, ``positions()``, ``pnl()``, ``halt(reason)``,
``reduce_only(reason)``, ``resume(reason)``, ``cancel_all()``)::

    globals().update(BotControl(system, config=config).operator().namespace())
    marks()

``perpsbot run`` opens a :class:`ControlPlane`: a shell socket (``perpsbot shell``,
``perpsbot status``), ``/metrics``, ``/healthz`` and ``/readyz`` on 127.0.0.1, and a watch
on the configuration file.

Where each part lives: ``_bot_control.py`` (the list of what the control plane knows of the
bot), ``_control_plane.py`` (the daemon's endpoints), ``_trading_watch.py`` (what the trading
actors publish), ``_trading_views.py``, ``_trading_operator.py`` and ``_trading_metrics.py``
(the trading state, orders, positions, PnL as tables, helpers and metrics), ``_market.py``
(marks and the feed), ``_journal.py`` (the audit, commits), ``_attach.py``, ``shell_cli.py``
and ``status_cli.py`` (``perpsbot shell`` and ``perpsbot status``).
"""

from perpsbot.bot.control._bot_control import BotControl, BotOperator
from perpsbot.bot.control._control_plane import ControlPlane, socket_path
from perpsbot.bot.control._journal import (
    JournalAudit,
    JournalCollector,
    journal_committing,
    sync_journal,
)
from perpsbot.bot.control._market import MarketDataCollector, feed_section, marks_fresh
from perpsbot.bot.control._trading_metrics import TradingCollector
from perpsbot.bot.control._trading_operator import TradingOperator
from perpsbot.bot.control._trading_views import reconciliation_done, trading_section
from perpsbot.bot.control._trading_watch import Observed, TradingWatch

__all__ = [
    "BotControl",
    "BotOperator",
    "ControlPlane",
    "JournalAudit",
    "JournalCollector",
    "MarketDataCollector",
    "Observed",
    "TradingCollector",
    "TradingOperator",
    "TradingWatch",
    "feed_section",
    "journal_committing",
    "marks_fresh",
    "reconciliation_done",
    "socket_path",
    "sync_journal",
    "trading_section",
]
