"""``python -m benchmarks daemon`` runs the bot against a separate sim and reports its costs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

# Process-level: runs perpsbot processes or the whole daemon (pytest -m 'not slow' skips it).
pytestmark = pytest.mark.slow

ROOT = Path(__file__).parents[1]


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_daemon_suite_measures_the_bot_at_idle_and_under_a_feed(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "daemon", "--smoke", "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=280, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads((tmp_path / "daemon.json").read_text())
    assert figures["mode"] == "smoke"
    idle, fed = figures["scenarios"]["idle, 1 symbol"], figures["scenarios"]["200 l2/s x 4 symbols"]
    assert fed["frames_per_s"] > 10 * max(idle["frames_per_s"], 1)  # the sim fed it
    # An idle bot may not run at all in a one-second window (nor more than a fed one on a busy
    # machine, where its start-up work can spill into the window); a fed one always runs.
    assert idle["cpu_percent_of_one_core"] >= 0
    assert fed["cpu_percent_of_one_core"] > 0
    assert fed["cpu_us_per_frame"] > 0
    for scenario in (idle, fed):
        assert scenario["rss_mib"] > 0
        assert scenario["threads"] > 1
        assert 0 < scenario["start_to_first_mark_s"] < 60
        assert [run["exit_code"] for run in scenario["runs"]] == [0]
