"""The README's backtest commands, run as a user would in a fresh directory with the dev
profile: candles downloaded from the paper account's exchange, a backtest over them, and the
backtest's journal read by ``perpsbot journal``."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

# perpsbot processes and a backtest of hours of bars (pytest -m 'not slow' skips it).
pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parents[1] / "README.md"
PERPSBOT = f"{shlex.quote(sys.executable)} -m perpsbot"


def _commands() -> list[str]:
    text = README.read_text()
    match = re.search(r"<!-- readme-commands: backtest -->\n```sh\n(.*?)```", text, re.DOTALL)
    assert match, "README has no commands marked 'backtest'"
    return match.group(1).strip().splitlines()


def test_the_readmes_download_backtest_and_journal_commands_work_in_turn(
    tmp_path: Path,
) -> None:
    printed = []
    for command in _commands():
        done = subprocess.run(
            command.replace("perpsbot ", f"{PERPSBOT} --log-level WARNING ", 1),
            shell=True,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, (command, done.stderr)
        printed.append((done.stdout, done.stderr))

    _, (report, backtest_log), (journal, _) = printed
    assert "360 bars in " in backtest_log  # three hours of two symbols' minutes
    head, *rows = report.splitlines()
    assert head.startswith("Backtest ")
    total = {  # the table's first column of figures is the total
        label: row[len(label) :].split()[0]
        for label in ("trades (round trips)", "still open at the end")
        for row in rows
        if row.startswith(label)
    }
    assert int(total["trades (round trips)"]) + int(total["still open at the end"]) > 0
    assert (tmp_path / "var/dev/backtest.sqlite3").is_file()
    assert "BIP-20DEC30-CDE" in journal or "ETP-20DEC30-CDE" in journal
