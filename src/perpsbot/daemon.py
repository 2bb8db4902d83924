"""``perpsbot run``: the bot as a long-running process.

Loads and validates the configuration (an invalid file exits 2 with the reason), opens the
venue (for ``dev``, the embedded simulated exchange on loopback), opens the control plane
(shell socket, metrics and health on 127.0.0.1, a watch on the configuration file), starts
the supervised actor tree and prints where everything is. Then it idles in the main thread
(handing the C allocator's free memory back to the system every minute) until the duration
passes, SIGINT or SIGTERM arrives, or the tree escalates; it stops the tree (risk journals the
day's figures as it stops) and prints the open positions it leaves, with their unrealized PnL.

- SIGHUP, a change to the file on disk, or ``reload()`` in the shell reload the
  configuration: an invalid file is rejected with the reason and the running configuration
  stays; a valid one restarts only the actors its changes concern (``venue.*`` and ``sim.*``
  reopen the venue link and restart the actors that use it).
- SIGUSR1 logs every thread's stack, actor threads named by their actor; so does a stop
  still under way after 20 s (where it hangs, in the log).
- With ``--tracemalloc DIR`` the bot traces its allocations and each SIGUSR2 dumps a
  snapshot to ``DIR/tracemalloc-N.snapshot`` (N = 1, 2, ...; read with
  ``tracemalloc.Snapshot.load``): how ``python -m benchmarks memory --tracemalloc`` finds
  what grows.

One bot per journal: the bot holds its journal's lock (:class:`~perpsbot.journal.JournalLock`)
for as long as it runs, taken before anything else opens, so a second bot started on the same
journal stops at once, whatever its socket. A reload that moves ``journal.path`` takes the new
journal's lock before the actors move (held elsewhere: the reload is rejected) and gives the
old one up after.

Exit codes: 0 after an orderly stop, 1 if the actor tree escalated (its supervisor gave up,
so a service manager should act), 2 for an invalid configuration or one the bot cannot start
with: a file that cannot be read or parsed, a broken value, a ``journal.path`` that is a
directory or a device, a journal another process holds, a paper account that cannot be used
(corrupt, or held by another exchange), a symbol the venue does not offer,
sim ports, the shell socket or the metrics port already taken, the socket's directory
impossible to create. Each is one log line naming the key; a reload that hits any of them
is rejected instead (a metrics port taken at a reload leaves the endpoint where it was).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import queue
import signal
import threading
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import attrs
from prometheus_client import CollectorRegistry

from perpsbot import __version__
from perpsbot._args import positive_seconds
from perpsbot.bot import (
    ROOT,
    VenueLinks,
    bot_sections,
    bot_spec,
    check_symbols,
    describe_link,
    embeds_sim,
    positions_left,
)
from perpsbot.bot.control import BotControl, ControlPlane
from perpsbot.clock import SystemClock
from perpsbot.config import BotConfig, Profile, load_config
from perpsbot.control import (
    RestOutcomes,
    StallWatch,
    file_signature,
    release_free_memory,
    thread_dump,
)
from perpsbot.errors import (
    ControlPlaneError,
    InvalidConfigError,
    JournalError,
    JournalInUseError,
    SimStateError,
)
from perpsbot.journal import JournalLocks, JournalReader
from perpsbot.runtime import ActorSystem

if TYPE_CHECKING:
    from perpsbot.data import RecordingWriter

__all__ = ["EXIT_BAD_CONFIG", "EXIT_ESCALATED", "EXIT_OK", "configure_parser", "run"]

logger = logging.getLogger("perpsbot.daemon")

EXIT_OK, EXIT_ESCALATED, EXIT_BAD_CONFIG = 0, 1, 2
_SIGNAL_POLL_S = 0.25
#: How often the idle main thread gives the C allocator's free memory back (see
#: perpsbot.control.release_free_memory): RSS stays flat instead of creeping up with faults.
_RELEASE_MEMORY_EVERY_S = 60.0
#: A stop still under way this long after it began logs every thread's stack (an orderly stop
#: takes well under a second; the actors' own shutdown timeouts are 5-10 s each).
_STOP_DUMPED_AFTER_S = 20.0


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="TOML configuration file (optional)")
    parser.add_argument(
        "--profile", choices=[p.value for p in Profile], help="defaults to use (default: dev)"
    )
    parser.add_argument("--live", action="store_true", help="trade real money (canary, prod)")
    parser.add_argument(
        "--duration",
        type=positive_seconds,
        metavar="SECONDS",
        help="stop after this long (default: run on)",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="decide and check orders, journal what would be placed, send nothing"
        " (overrides execution.dry_run, reloads included)",
    )
    parser.add_argument(
        "--fresh-paper",
        action="store_true",
        help="set the embedded exchange's paper account and its journal aside (in archive/"
        " beside the journal) and start a new account and a new journal",
    )
    parser.add_argument(
        "--record",
        type=Path,
        metavar="FILE",
        help="also record what the market-data feed and the quote poller receive to FILE"
        " (replaced; gzip, read with perpsbot.data.read_recording)",
    )
    parser.add_argument(
        "--tracemalloc",
        type=Path,
        metavar="DIR",
        help="trace memory allocations; each SIGUSR2 writes a snapshot into DIR"
        " (tracemalloc-N.snapshot: finding what grows, at a cost in memory and CPU)",
    )


def _load(args: argparse.Namespace) -> BotConfig:
    config = load_config(args.config, profile=args.profile, env=os.environ, live=args.live)
    if args.dry_run:
        config = attrs.evolve(config, execution=attrs.evolve(config.execution, dry_run=True))
    return config


class _Signals:
    """Turns SIGINT/SIGTERM into a stop request, SIGHUP (and the file watch) into reload
    requests, and SIGUSR1 into a thread dump."""

    def __init__(self) -> None:
        self.wake = threading.Event()
        self.stop = False
        self.reloads: queue.SimpleQueue[str] = queue.SimpleQueue()  # safe in signal handlers

    def install(self) -> Callable[[], None]:
        """Take the four signals over; returns what puts the previous handlers back."""
        handlers = {
            signal.SIGINT: self._on_stop,
            signal.SIGTERM: self._on_stop,
            signal.SIGHUP: self._on_reload,
            signal.SIGUSR1: self._on_dump,
        }
        previous = {signum: signal.signal(signum, handler) for signum, handler in handlers.items()}

        def restore() -> None:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

        return restore

    def request_reload(self, trigger: str) -> None:
        self.reloads.put(trigger)
        self.wake.set()

    def _on_stop(self, signum: int, frame: FrameType | None) -> None:
        self.stop = True
        self.wake.set()

    def _on_reload(self, signum: int, frame: FrameType | None) -> None:
        self.request_reload("SIGHUP")

    def _on_dump(self, signum: int, frame: FrameType | None) -> None:
        # Right here, not in the main loop: the dump matters most when the loop is stuck.
        logger.warning("thread dump (SIGUSR1):\n%s", thread_dump())


def _banner(config: BotConfig, control: BotControl, plane: ControlPlane, venues: VenueLinks) -> str:
    live = "REAL MONEY" if config.live else "paper money"
    if config.execution.dry_run:
        live += ", DRY RUN: no order is sent"
    endpoints = control.endpoints
    metrics = endpoints.get("metrics")
    watched = " (watched: changes reload it)" if plane.watching else ""
    config_file = control.config_file
    assert venues.current is not None
    return "\n".join(
        [
            f"perpsbot {__version__}, profile {config.profile} ({live}), pid {os.getpid()}",
            f"  config   {config_file if config_file else '(none: profile defaults)'}{watched}",
            f"  shell    perpsbot shell --socket {endpoints['socket']}",
            f"  metrics  {metrics + '  (/healthz, /readyz)' if metrics else 'off'}",
            f"  journal  {config.journal.path}  (perpsbot journal shows it)",
            f"  venue    {describe_link(venues.current)}",
        ]
    )


def run(args: argparse.Namespace) -> int:
    """Run the bot until it is stopped; returns the exit code (see the module's docstring).

    In the main thread, SIGINT, SIGTERM, SIGHUP and SIGUSR1 are taken over from the start
    (before the configuration is read: a reload or dump request must never kill a bot that
    is starting) and given back on return.
    """
    signals = _Signals()
    main = threading.current_thread() is threading.main_thread()
    restore = signals.install() if main else None
    traced = args.tracemalloc if main else None
    untrace = _trace_allocations(traced) if traced is not None else None
    try:
        return _run(args, signals)
    finally:
        if untrace is not None:
            untrace()
        if restore is not None:
            restore()


def _trace_allocations(folder: Path) -> Callable[[], None]:
    """Trace allocations (10 frames deep) and dump a snapshot into ``folder`` on each
    SIGUSR2; returns what stops tracing and puts SIGUSR2's handler back."""
    tracemalloc.start(10)
    dumped = 0

    def dump(signum: int, frame: FrameType | None) -> None:
        nonlocal dumped
        dumped += 1
        path = folder / f"tracemalloc-{dumped}.snapshot"
        partial = path.with_suffix(".partial")
        tracemalloc.take_snapshot().dump(str(partial))
        partial.replace(path)  # whole or absent: a reader never sees half a snapshot
        logger.warning("tracemalloc snapshot written to %s", path)

    previous = signal.signal(signal.SIGUSR2, dump)

    def untrace() -> None:
        signal.signal(signal.SIGUSR2, previous)
        tracemalloc.stop()

    return untrace


def _run(args: argparse.Namespace, signals: _Signals) -> int:
    read = None if args.config is None else file_signature(args.config)
    try:
        config = _load(args)
        if args.fresh_paper and not embeds_sim(config):
            raise InvalidConfigError(
                "--fresh-paper starts the paper account of an embedded exchange over"
                " (venue.kind 'sim' or 'global' without venue URLs or --live); this"
                " configuration trades on "
                + (
                    config.venue.rest_base_url
                    or config.venue.global_http_url
                    or config.venue.kind.value
                )
            )
    except InvalidConfigError as error:
        logger.critical("invalid configuration: %s", error)  # a JSON line for collectors
        return EXIT_BAD_CONFIG
    clock = SystemClock()
    registry = CollectorRegistry(auto_describe=False)
    rest_outcomes = RestOutcomes(registry)
    with contextlib.ExitStack() as stack:
        # Ended last, once everything below was closed: a stop that hangs logs where.
        stopping = stack.enter_context(
            StallWatch("stopping", after_s=_STOP_DUMPED_AFTER_S, logger=logger)
        )
        journals = stack.enter_context(JournalLocks())  # released after the writer stopped
        venues = stack.enter_context(
            VenueLinks(clock, on_rest_outcome=rest_outcomes.record, fresh_paper=args.fresh_paper)
        )
        system = ActorSystem(
            "perpsbot",
            clock=clock,
            sections_of=bot_sections,
            watchdog_interval_s=config.runtime.watchdog_interval_s,
            watchdog_timeout_s=config.runtime.watchdog_timeout_s,
            on_escalation=lambda reason, error: signals.wake.set(),
        )
        stack.callback(system.shutdown)

        def settle(new: BotConfig) -> None:
            venues.retain(new)
            journals.retain(new.journal.path)
            plane.apply(new)

        control = BotControl(
            system,
            config=config,
            load=lambda: _load(args),
            prepare=[
                lambda new: journals.hold(new.journal.path),
                lambda new: check_symbols(new, venues.link_for(new)),
            ],
            settle=[settle],
            config_file=args.config,
        )
        plane = ControlPlane(control, registry=registry, request_reload=signals.request_reload)
        try:
            # First the journal: a second bot on it stops here, before it opens anything.
            journals.hold(config.journal.path)
            # Open it now: a venue that cannot open, or lacks a symbol, stops us here.
            check_symbols(config, venues.link_for(config))
            stack.enter_context(plane)
        except InvalidConfigError as error:  # journal.path a directory, sim ports in use...
            logger.critical("invalid configuration: %s", error)
            return EXIT_BAD_CONFIG
        except (JournalInUseError, ControlPlaneError, SimStateError) as error:
            # A held journal, a taken socket, a paper account that cannot be used.
            logger.critical("cannot start: %s", error)
            return EXIT_BAD_CONFIG
        if args.config is not None and file_signature(args.config) != read:
            # Edited while we started, before the watch began: reloaded at once, not missed.
            signals.request_reload("file change while starting")
        if signals.stop:  # asked to stop while it was starting: no need to start the tree
            logger.info("stopping before the actor tree started")
            return EXIT_OK
        recorder = None
        if args.record is not None:
            try:
                recorder = _recorder(args.record, config, clock)
            except OSError as error:
                logger.critical("cannot record to %s: %s", args.record, error.strerror or error)
                return EXIT_BAD_CONFIG
            # At the end, after the tree's shutdown below: it records when it stopped.
            close_recording = recorder.close
            stack.callback(lambda: close_recording(ended_ns=clock.time_ns()))
        print(_banner(config, control, plane, venues), flush=True)
        started_ns = clock.time_ns()
        system.start(bot_spec(config, venues, report=True, recorder=recorder), config=config)
        logger.info(
            "perpsbot running (profile %s, pid %d)",
            config.profile,
            os.getpid(),
            extra={"endpoints": control.endpoints, "root": ROOT},
        )
        deadline = None if args.duration is None else clock.monotonic() + args.duration
        release_due = clock.monotonic() + _RELEASE_MEMORY_EVERY_S
        while not signals.stop and system.escalation is None:
            if clock.monotonic() >= release_due:
                release_free_memory()
                release_due = clock.monotonic() + _RELEASE_MEMORY_EVERY_S
            remaining = _SIGNAL_POLL_S if deadline is None else deadline - clock.monotonic()
            if remaining <= 0:
                break
            # Never block without a timeout: the kernel may deliver a signal to any thread,
            # and Python runs its handler only when the main thread next runs bytecode.
            signals.wake.wait(min(remaining, _SIGNAL_POLL_S))
            signals.wake.clear()
            triggers = []
            while not signals.reloads.empty():  # requests that came together: one reload
                triggers.append(signals.reloads.get())
            if triggers:
                control.reload(", ".join(dict.fromkeys(triggers)))
        escalation = system.escalation
        if escalation is not None:
            logger.critical("stopping: the actor tree escalated: %s", escalation)
        else:
            logger.info("stopping")
        stopping.start()
        system.shutdown()  # risk journals the day's figures as it stops
        _report_stop(control.config.journal.path, since_ns=started_ns)
        return EXIT_OK if escalation is None else EXIT_ESCALATED


def _recorder(path: Path, config: BotConfig, clock: SystemClock) -> RecordingWriter:
    from perpsbot.data import RecordingWriter  # noqa: PLC0415  (only with --record)

    writer = RecordingWriter(path, symbols=config.market_data.symbols, started_ns=clock.time_ns())
    logger.info("recording the market data into %s", path)
    return writer


def _report_stop(journal: Path, *, since_ns: int) -> None:
    """Print the positions the stop leaves and their unrealized PnL, from the snapshot risk
    journaled as it stopped (none of this run's: nothing valued the book)."""
    try:
        with JournalReader(journal) as reader:
            snapshot = reader.last_risk_snapshot()
    except JournalError as error:
        logger.warning("the positions left cannot be read from the journal: %s", error)
        return
    if snapshot is not None and snapshot.ts_created_ns < since_ns:
        snapshot = None
    print(positions_left(snapshot), flush=True)
