"""Notices when the configuration file changes on disk, once the change has settled."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

__all__ = ["ConfigWatcher", "FileSignature", "file_signature"]

logger = logging.getLogger("perpsbot.control.watcher")

FileSignature = tuple[int, int, int] | None


def file_signature(path: Path) -> FileSignature:
    """What changes when the file at ``path`` is written or replaced (None: missing)."""
    try:
        info = os.stat(path)
    except OSError:
        return None  # missing for a moment (an editor's rename) or for good: both settle
    return (info.st_mtime_ns, info.st_size, info.st_ino)


class ConfigWatcher:
    """Calls ``on_change`` when the file at ``path`` has changed and then stayed unchanged.

    Call :meth:`check` on a timer (the daemon does every 0.5 s). A change is reported once the
    file's size, modification time and inode are the same at two checks in a row, so an
    editor's truncate-then-write or write-then-rename is one change, not a burst. Polling
    ``stat`` needs no inotify and works on every filesystem.
    """

    def __init__(self, path: Path, on_change: Callable[[], None]) -> None:
        self.path = path
        self._on_change = on_change
        self._applied = file_signature(path)
        self._candidate: FileSignature | None = None
        self._seen_candidate = False

    def check(self) -> None:
        """Look at the file once; report a change that has settled since the last check."""
        now = file_signature(self.path)
        if now == self._applied:
            self._seen_candidate = False
            return
        if not self._seen_candidate or now != self._candidate:
            self._candidate, self._seen_candidate = now, True
            return
        self._applied, self._seen_candidate = now, False
        logger.info("%s changed on disk", self.path)
        self._on_change()
