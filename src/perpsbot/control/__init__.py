"""Operating any actor system: shell, status, metrics and health, reload from disk.

Nothing here knows the bot's trading: these are the pieces that work on any
:class:`~perpsbot.runtime.ActorSystem`, and the bot plugs its own views into them
(:mod:`perpsbot.bot.control` adds the trading helpers, status sections, health checks and
Prometheus collectors, and opens the daemon's control plane). In-process::

    from perpsbot.control import Operator
    ops = Operator(system)          # actors(), tree(), state(path), restart(path), help()
    ops.tree()

The parts: :class:`Operator` and ``@helper`` (the shell's helpers, audited actions),
:class:`ShellServer`, :class:`Session` and :class:`ShellClient` (the shell socket),
:class:`MetricsServer`, :class:`RuntimeCollector` and :func:`judge` of health checks
(``/metrics``, ``/healthz``, ``/readyz``), :func:`build_status` and :func:`render_status` with
status sections, :class:`ConfigReloader` and :class:`ConfigWatcher`, :func:`thread_dump` and
:class:`StallWatch` (a dump when a stop hangs), and :func:`release_free_memory` (the C
allocator's free pages back to the system).
"""

from perpsbot.control._client import ShellClient, interact
from perpsbot.control._health import Check, Health, escalation_absent, judge, no_actor_stuck
from perpsbot.control._http import MetricsServer
from perpsbot.control._memory import release_free_memory
from perpsbot.control._metrics import REST_OUTCOMES, RestOutcomes, RuntimeCollector
from perpsbot.control._operator import AuditRecord, AuditSink, Operator, helper, log_audit
from perpsbot.control._reloader import ConfigReloader, ReloadOutcome
from perpsbot.control._server import Peer, ShellServer, peer_of
from perpsbot.control._session import Session
from perpsbot.control._states import state_as, state_or_none
from perpsbot.control._status import StatusSection, build_status, render_status
from perpsbot.control._table import Table, Text
from perpsbot.control._threads import StallWatch, thread_dump
from perpsbot.control._watcher import ConfigWatcher, file_signature

__all__ = [
    "REST_OUTCOMES",
    "AuditRecord",
    "AuditSink",
    "Check",
    "ConfigReloader",
    "ConfigWatcher",
    "Health",
    "MetricsServer",
    "Operator",
    "Peer",
    "ReloadOutcome",
    "RestOutcomes",
    "RuntimeCollector",
    "Session",
    "ShellClient",
    "ShellServer",
    "StallWatch",
    "StatusSection",
    "Table",
    "Text",
    "build_status",
    "escalation_absent",
    "file_signature",
    "helper",
    "interact",
    "judge",
    "log_audit",
    "no_actor_stuck",
    "peer_of",
    "release_free_memory",
    "render_status",
    "state_as",
    "state_or_none",
    "thread_dump",
]
