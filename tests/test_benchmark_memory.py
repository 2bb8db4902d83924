"""``python -m benchmarks memory`` runs the trading bot against a separate sim with venue faults
and reports how its RSS moved; ``--tracemalloc`` adds the allocation sites that grew."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

# Process-level: runs perpsbot processes for half a minute (pytest -m 'not slow' skips it).
pytestmark = pytest.mark.slow

ROOT = Path(__file__).parents[1]


@pytest.mark.timeout(300)
def test_the_memory_suite_samples_the_rss_of_a_trading_bot_under_venue_faults_and_traces_growth(
    tmp_path: Path,
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "memory", "--smoke", "--tracemalloc",
         "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=280, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads((tmp_path / "memory-tracemalloc.json").read_text())
    assert figures["mode"] == "smoke"
    assert figures["tracemalloc"] is True
    run = figures["run"]
    assert run["faults_injected"] >= 10, run["faults_refused"]
    assert run["faults_refused"] == []
    assert run["exit_code"] == 0
    times = [t for t, _ in run["samples"]]
    assert times == sorted(times)
    assert times[-1] >= run["run_s"]
    assert len(times) >= run["run_s"] / run["sample_every_s"] / 2
    assert all(rss > 0 for _, rss in run["samples"])
    assert 0 < run["rss_start_mib"] <= run["rss_peak_mib"]
    assert isinstance(run["tail_slope_mib_per_10_min"], float)
    growth = run["traced_growth"]
    assert 0 < growth["traced_mib_before"] < run["rss_peak_mib"]
    assert growth["sites"]
    assert all(":" in site["site"] and "held_kib" in site for site in growth["sites"])


def test_a_tracemalloc_option_given_to_another_suite_is_refused_with_the_reason() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "daemon", "--smoke", "--tracemalloc"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "--tracemalloc is an option of the memory suite, not of 'daemon'" in done.stderr
