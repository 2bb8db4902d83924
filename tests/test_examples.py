"""The runnable examples under examples/ are run as the README shows them, so they cannot rot."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

# Process-level: runs perpsbot processes or the whole daemon (pytest -m 'not slow' skips it).
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]


def _readme_command(script: str) -> tuple[dict[str, str], list[str]]:
    """The README's command line running ``script``: its variables and its arguments."""
    line = re.search(
        rf"^(\S+=\S+ )*python {re.escape(script)}.*$", (ROOT / "README.md").read_text(), re.M
    )
    assert line, f"README shows no command running {script}"
    words = shlex.split(line.group(0))
    env = dict(w.split("=", 1) for w in words if "=" in w and not w.startswith("-"))
    args = words[words.index("python") + 1 :]
    return env, args


def test_the_embedding_host_logs_marks_and_feed_asks_state_and_stop_all_ends_the_bot(
    tmp_path: Path,
) -> None:
    env, args = _readme_command("examples/embed_host.py")
    # Its own journal: the dev profile's default (var/dev/ in the working directory) is the
    # user's, and another test running beside this one would hold its lock.
    env["PERPSBOT_JOURNAL_PATH"] = str(tmp_path / "journal.sqlite3")
    assert args[1:] == ["--cycles", "3"]
    process = subprocess.run(
        [sys.executable, str(ROOT / args[0]), *args[1:], "--timeout-s", "40"],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,  # nothing of the run lands in the working directory's var/
        env={**os.environ, **env},
    )
    out = process.stdout
    assert process.returncode == 0, out + process.stderr
    assert re.search(r"^host: feed: subscribed", out, re.M), out
    # The first cycle runs as soon as every symbol has a mark: on a busy machine that can be
    # before the host's subscription reached the mark window.
    for cycle in (2, 3):
        for symbol in ("BIP-20DEC30-CDE", "ETP-20DEC30-CDE"):  # the dev profile's
            # A mark, or "-" while a symbol has none yet (a slow start on a busy machine).
            mark = r"[\d.]+" if cycle == 3 else r"(-|[\d.]+)"
            assert re.search(rf"^host: cycle {cycle}: {symbol} mark {mark}$", out, re.M), out
    # Asked at cycle 3; a cycle more may have run if the host was kept waiting a second.
    state = (
        r"^host: bot state: cycle [34],"
        r" windows \{'BIP-20DEC30-CDE': [1-4], 'ETP-20DEC30-CDE': [1-4]\}$"
    )
    assert re.search(state, out, re.M), out
    # The host's ActorRegistry.stop_all() stopped the bot through its anchor; nothing lingers.
    assert "host: stop_all() returned; bot running: False" in out
    assert "host: threads left: 0 []" in out
    # The embedded exchange kept its paper account beside the dev journal, as a bot's does.
    assert (tmp_path / "sim" / "state.sqlite3").is_file()
