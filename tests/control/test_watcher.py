"""The config watcher reports a change to the file once it has settled."""

from __future__ import annotations

import os
from pathlib import Path

from perpsbot.control import ConfigWatcher


def _watch(path: Path) -> tuple[ConfigWatcher, list[str]]:
    calls: list[str] = []
    return ConfigWatcher(path, lambda: calls.append("changed")), calls


def _touch(path: Path, text: str, mtime_ns: int) -> None:
    path.write_text(text)
    os.utime(path, ns=(mtime_ns, mtime_ns))  # distinct times, whatever the filesystem's grain


def test_an_unchanged_file_reports_nothing(tmp_path: Path) -> None:
    path = tmp_path / "bot.toml"
    _touch(path, "a", 1_000)
    watcher, calls = _watch(path)
    for _ in range(3):
        watcher.check()
    assert calls == []


def test_a_change_is_reported_once_it_is_the_same_at_two_checks(tmp_path: Path) -> None:
    path = tmp_path / "bot.toml"
    _touch(path, "a", 1_000)
    watcher, calls = _watch(path)
    _touch(path, "bb", 2_000)
    watcher.check()
    assert calls == []  # it may still be being written
    watcher.check()
    assert calls == ["changed"]
    watcher.check()
    assert calls == ["changed"]


def test_a_burst_of_writes_is_one_change(tmp_path: Path) -> None:
    path = tmp_path / "bot.toml"
    _touch(path, "a", 1_000)
    watcher, calls = _watch(path)
    for n in range(2, 6):
        _touch(path, "x" * n, n * 1_000)
        watcher.check()
    assert calls == []
    watcher.check()
    assert calls == ["changed"]


def test_a_file_replaced_by_rename_is_a_change(tmp_path: Path) -> None:
    path = tmp_path / "bot.toml"
    _touch(path, "a", 1_000)
    watcher, calls = _watch(path)
    replacement = tmp_path / "bot.toml.tmp"  # an editor's save: a new file renamed over
    _touch(replacement, "a", 1_000)
    replacement.rename(path)
    watcher.check()
    watcher.check()
    assert calls == ["changed"]  # a new inode, even with the same size and time


def test_a_file_missing_for_a_moment_is_one_change_once_it_is_back(tmp_path: Path) -> None:
    path = tmp_path / "bot.toml"
    _touch(path, "a", 1_000)
    watcher, calls = _watch(path)
    path.unlink()
    watcher.check()
    _touch(path, "ab", 2_000)
    watcher.check()
    watcher.check()
    assert calls == ["changed"]
