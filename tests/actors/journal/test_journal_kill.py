"""kill -9 of a process that journals: every intent it acknowledged is in the file after."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from perpsbot.journal import JournalReader

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.slow
def test_every_acknowledged_intent_survives_a_kill_9_of_the_writer(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.actors.journal.journal_writer_process", str(path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    acknowledged = []
    try:
        while len(acknowledged) < 500:
            line = process.stdout.readline()
            assert line, f"the writer ended early (exit {process.poll()})"
            acknowledged.append(line.strip())
    finally:
        os.kill(process.pid, signal.SIGKILL)
        rest, _ = process.communicate(timeout=10)
    acknowledged += rest.split()  # printed before the kill landed

    assert process.returncode == -signal.SIGKILL
    with JournalReader(path) as reader:
        missing = [i for i in acknowledged if reader.intent(i) is None]
        counts = reader.counts()
    assert missing == []
    assert counts["intents"] >= len(acknowledged)
