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


def _commands(name: str = "backtest") -> list[str]:
    """The README's commands marked ``name``, a command continued with ``\\`` as one."""
    text = README.read_text()
    pattern = rf"<!-- readme-commands: {name} -->\n```sh\n(.*?)```"
    match = re.search(pattern, text, re.DOTALL)
    assert match, f"README has no commands marked {name!r}"
    return match.group(1).strip().replace("\\\n", " ").splitlines()


def _run(command: str, cwd: Path) -> tuple[str, str]:
    """``command`` run as a user would (the ``perpsbot`` of this interpreter): its output
    and its log, once it succeeded."""
    done = subprocess.run(
        command.replace("perpsbot ", f"{PERPSBOT} --log-level WARNING ", 1),
        shell=True,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, (command, done.stderr)
    return done.stdout, done.stderr


def test_the_readmes_download_backtest_and_journal_commands_work_in_turn(
    tmp_path: Path,
) -> None:
    printed = [_run(command, tmp_path) for command in _commands()]

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


def test_the_readmes_sweeps_run_on_processes_and_on_a_local_ray_instance(tmp_path: Path) -> None:
    pytest.importorskip("ray", reason="--ray needs the ray extra: pip install 'perpsbot[ray]'")
    # Small data: the three hours the sweeps run on (the README downloads a day).
    _run("perpsbot data download --symbols BIP-20DEC30-CDE,ETP-20DEC30-CDE --since 3h", tmp_path)

    tables = [_run(command, tmp_path)[0] for command in _commands("backtest-sweep")]

    for table, folder in zip(tables, ("sweep", "sweep-ray"), strict=True):
        lines = table.splitlines()  # Ray may say something of its own before the table
        head = "4 runs, ranked by net_pnl (highest first)"  # short_ma 3..4 x long_ma 15,20
        assert head in lines, table
        ranked = lines[lines.index(head) + 2 :]
        assert [int(line.split()[0]) for line in ranked] == [1, 2, 3, 4], table
        journals = sorted(p.name for p in (tmp_path / "var/dev" / folder).iterdir())
        assert len(journals) == 4
        assert "market_data.short_ma=3_market_data.long_ma=20.sqlite3" in journals


def test_the_readmes_recording_replays_through_the_backtest(tmp_path: Path) -> None:
    (record,) = _commands("record")
    # Seconds, not the README's ten minutes.
    _run(re.sub(r"--duration \d+", "--duration 5", record), tmp_path)

    (replay,) = _commands("backtest-replay")
    out, _ = _run(replay, tmp_path)

    assert re.search(r"^frames +[1-9]\d*$", out, re.MULTILINE), out
    assert (tmp_path / "var/dev/replay.sqlite3").is_file()
