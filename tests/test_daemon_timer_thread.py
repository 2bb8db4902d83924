"""``perpsbot run`` when the thread every timer depends on dies: it must not look healthy."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# Process-level: runs perpsbot processes or the whole daemon (pytest -m 'not slow' skips it).
pytestmark = pytest.mark.slow

# Runs the CLI with a clock whose waits start failing as Condition.wait did for a timeout
# above threading.TIMEOUT_MAX: the timer thread dies a few waits after start.
_FAILING_CLOCK = """
import sys
from perpsbot import clock
from perpsbot.cli import main

real_wait = clock.SystemClock.wait
waits = 0

def wait(self, condition, timeout_s):
    global waits
    waits += 1
    if waits > 5:
        raise OverflowError("timeout value is too large")
    real_wait(self, condition, timeout_s)

clock.SystemClock.wait = wait
sys.exit(main(["--log-format", "text", "run", "--profile", "dev", "--duration", "30"]))
"""


def test_a_dead_timer_thread_makes_perpsbot_run_exit_1_at_once(tmp_path: Path) -> None:
    process = subprocess.run(
        [sys.executable, "-c", _FAILING_CLOCK],
        check=False,
        capture_output=True,
        text=True,
        timeout=25,
        cwd=tmp_path,  # the dev profile's journal and paper account go to ./var/dev
        env={**os.environ, "PERPSBOT_MARKET_DATA_UPDATE_INTERVAL_S": "0.2"},
    )
    assert process.returncode == 1, process.stderr
    assert "perpsbot-timers died" in process.stderr
    assert "the actor tree escalated" in process.stderr
