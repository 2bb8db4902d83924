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


def _sweep_table_and_journals(tmp_path: Path, line: int) -> tuple[str, list[str]]:
    """The README's sweep command number ``line`` run on an hour of small data: what it
    printed and the journals it left."""
    # Small data: the hour the sweeps run on (the README downloads a day).
    _run("perpsbot data download --symbols BIP-20DEC30-CDE,ETP-20DEC30-CDE --since 1h", tmp_path)
    command = _commands("backtest-sweep")[line]
    folder = tmp_path / re.findall(r"--journal (\S+)", command)[0]
    table, _ = _run(command, tmp_path)
    return table, sorted(p.name for p in folder.iterdir())


def _assert_ranked(table: str, journals: list[str]) -> None:
    lines = table.splitlines()  # Ray may say something of its own before the table
    head = "4 runs, ranked by net_pnl (highest first)"  # short_ma 3..4 x long_ma 15,20
    assert head in lines, table
    ranked = lines[lines.index(head) + 2 :]
    assert [int(line.split()[0]) for line in ranked] == [1, 2, 3, 4], table
    assert len(journals) == 4
    assert "market_data.short_ma=3_market_data.long_ma=20.sqlite3" in journals


@pytest.mark.timeout(300)  # four backtests on a loaded 2-core machine
def test_the_readmes_sweep_runs_on_this_machines_processes(tmp_path: Path) -> None:
    _assert_ranked(*_sweep_table_and_journals(tmp_path, 0))


@pytest.mark.timeout(300)  # a local Ray instance takes ~20 s to start on a busy 2-core machine
def test_the_readmes_sweep_runs_on_a_local_ray_instance(tmp_path: Path) -> None:
    pytest.importorskip("ray", reason="--ray needs the ray extra: pip install 'perpsbot[ray]'")
    _assert_ranked(*_sweep_table_and_journals(tmp_path, 1))


def test_the_readmes_recording_replays_through_the_backtest(tmp_path: Path) -> None:
    (record,) = _commands("record")
    # Seconds, not the README's ten minutes.
    _run(re.sub(r"--duration \d+", "--duration 5", record), tmp_path)

    (replay,) = _commands("backtest-replay")
    out, _ = _run(replay, tmp_path)

    assert re.search(r"^frames +[1-9]\d*$", out, re.MULTILINE), out
    assert (tmp_path / "var/dev/replay.sqlite3").is_file()
