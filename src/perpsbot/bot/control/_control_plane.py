"""The daemon's control plane: the shell socket, metrics and health over HTTP, the file watch."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

from prometheus_client import CollectorRegistry

from perpsbot import __version__
from perpsbot.bot.control._bot_control import BotControl
from perpsbot.config import BotConfig, shell_socket
from perpsbot.control import ConfigWatcher, MetricsServer, Peer, Session, ShellServer
from perpsbot.errors import ControlPlaneError
from perpsbot.runtime import TimerHandle

__all__ = ["ControlPlane", "socket_path"]

logger = logging.getLogger("perpsbot.control")

WATCH_INTERVAL_S = 0.5


def socket_path(config: BotConfig) -> Path:
    """Where the shell socket of a bot with ``config`` lives: ``control.socket_path``, else
    ``control/shell.sock`` in the journal's directory (one bot per journal, so one socket)."""
    return shell_socket(config.control.socket_path, config.journal.path)


class ControlPlane:
    """Opens the shell socket, the metrics endpoint (if ``control.metrics``) and the config
    file watch (if ``control.watch_config`` and there is a file) of one bot.

    Args:
        control: the bot.
        registry: what ``/metrics`` serves (the bot's collectors are added to it).
        request_reload: asks the daemon to reload (the watcher calls it with a reason).
    """

    def __init__(
        self,
        control: BotControl,
        *,
        registry: CollectorRegistry,
        request_reload: Callable[[str], None],
    ) -> None:
        self._control = control
        self._registry = registry
        for collector in control.collectors():
            registry.register(collector)
        self._request_reload = request_reload
        self.shell: ShellServer | None = None
        self.metrics: MetricsServer | None = None
        self._watch: TimerHandle | None = None
        self._applied = control.config.control

    def start(self) -> None:
        """Open everything the configuration asks for.

        Raises:
            ControlPlaneError: the socket or the port could not be opened.
        """
        control = self._control
        path = socket_path(control.config)
        self.shell = ShellServer(
            path,
            open_session=self._session,
            status=self._status,
            hello={
                "name": "perpsbot",
                "version": __version__,
                "pid": os.getpid(),
                "profile": control.config.profile.value,
                "helpers": list(control.operator().helpers()),
            },
        )
        self.shell.start()
        control.endpoints["socket"] = str(path)
        try:
            self._apply(control.config)
        except BaseException:
            self.close()
            raise

    def apply(self, config: BotConfig) -> None:
        """After a reload: reopen the metrics endpoint or the watch if ``control.*`` changed
        (``control.socket_path`` applies at the next start: moving it would end sessions).
        A new metrics port that cannot be opened is logged and the endpoint stays where it
        was: a reload never closes what it cannot replace."""
        if config.control.socket_path != self._applied.socket_path:
            logger.warning("control.socket_path changes apply at the next start")
        try:
            self._apply(config)
        except ControlPlaneError as error:
            where = self.metrics.url if self.metrics is not None else "nowhere (off)"
            logger.error("%s; metrics stay at %s", error, where)

    def _apply(self, config: BotConfig) -> None:
        settings = config.control
        watch = settings.watch_config and self._control.config_file is not None
        if watch and self._watch is None:
            assert self._control.config_file is not None
            watcher = ConfigWatcher(self._control.config_file, self._file_changed)
            self._watch = self._control.system.scheduler.call_every(WATCH_INTERVAL_S, watcher.check)
        elif not watch and self._watch is not None:
            self._watch.cancel()
            self._watch = None
        wanted = settings.metrics
        moved = self.metrics is not None and settings.metrics_port not in (0, self.metrics.port)
        if wanted and (self.metrics is None or moved):
            opened = MetricsServer(
                self._registry, health=self._control.health, port=settings.metrics_port
            )
            opened.start()  # before the old one closes: if this fails, that one serves on
            if self.metrics is not None:
                self.metrics.close()
            self.metrics = opened
            self._control.endpoints["metrics"] = f"{opened.url}/metrics"
            if self._applied is not settings:
                logger.info("metrics now at %s/metrics", opened.url)
        elif not wanted and self.metrics is not None:
            self.metrics.close()
            self.metrics = None
            self._control.endpoints.pop("metrics", None)
        self._applied = settings

    @property
    def watching(self) -> bool:
        return self._watch is not None

    def close(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        if self.metrics is not None:
            self.metrics.close()
        if self.shell is not None:
            self.shell.close()

    def __enter__(self) -> ControlPlane:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _file_changed(self) -> None:
        self._request_reload("file change")

    def _session(self, peer: Peer) -> Session:
        operator = self._control.operator(f"shell {peer}")
        return Session(operator.namespace(), redact=self._control.redact)

    def _status(self) -> dict[str, object]:
        status = self._control.status()
        return {"status": status, "text": self._control.render(status)}
