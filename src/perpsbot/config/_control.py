"""The ``control`` section: how a running bot is operated (shell socket, metrics, file watch)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import attrs

from perpsbot.config._rules import BOOLEAN, OPTIONAL_PATH, PORT

__all__ = ["ControlConfig", "shell_socket"]


def shell_socket(socket_path: Path | None, journal_path: Path) -> Path:
    """Where the shell socket is: ``control.socket_path``, else ``control/shell.sock`` in the
    journal's directory (one bot per journal, so one socket)."""
    return (
        socket_path if socket_path is not None else journal_path.parent / "control" / "shell.sock"
    )


@attrs.frozen(kw_only=True)
class ControlConfig:
    """The control plane of ``perpsbot run``.

    ``socket_path`` is the Unix socket ``perpsbot shell`` and ``perpsbot status`` attach to;
    unset, it is ``control/shell.sock`` next to the journal (``journal.path``), in a
    directory only the bot's user may enter. With ``metrics`` on, Prometheus metrics and the
    ``/healthz`` and ``/readyz`` probes are served on 127.0.0.1 at ``metrics_port`` (0: any
    free port, printed at start). With ``watch_config``, a change to the configuration file
    on disk reloads it like SIGHUP.
    """

    SECTION: ClassVar[str] = "control"

    socket_path: Path | None = attrs.field(default=None, validator=OPTIONAL_PATH)
    metrics: bool = attrs.field(default=False, validator=BOOLEAN)
    metrics_port: int = attrs.field(default=0, validator=PORT)
    watch_config: bool = attrs.field(default=True, validator=BOOLEAN)
