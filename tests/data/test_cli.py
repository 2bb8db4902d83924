"""``perpsbot data download`` and ``show`` as a user runs them, against the dev profile's
embedded exchange."""

from __future__ import annotations

import datetime
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def _perpsbot(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "perpsbot", "--log-level", "WARNING", *args],
        cwd=cwd, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_download_stores_the_candles_and_a_rerun_asks_for_nothing(tmp_path: Path) -> None:
    # One fixed window for both runs: "--since 6h" would be another window once a minute
    # passes between them (a loaded machine), and the rerun would rightly fetch that minute.
    until = datetime.datetime.now(datetime.UTC).replace(second=0, microsecond=0)
    until -= datetime.timedelta(hours=1)
    since = until - datetime.timedelta(hours=6)
    args = ("data", "download", "--symbols", "BIP-20DEC30-CDE,ETP-20DEC30-CDE",
            "--since", since.isoformat(), "--until", until.isoformat())  # fmt: skip

    first = _perpsbot(tmp_path, *args)
    again = _perpsbot(tmp_path, *args)
    shown = _perpsbot(tmp_path, "data", "show")

    assert first.returncode == 0, first.stderr
    assert "BIP-20DEC30-CDE ONE_MINUTE: 360 candles stored (2 pages)" in first.stderr
    assert "page 1, 350 candles, 97%" in first.stderr
    assert again.returncode == 0, again.stderr
    assert "BIP-20DEC30-CDE ONE_MINUTE: 0 candles stored (already stored)" in again.stderr
    assert (tmp_path / "var/dev/candles.sqlite3").is_file()
    assert "ETP-20DEC30-CDE    ONE_MINUTE          360 candles" in shown.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--symbols", "NOPE-USD", "--since", "1h"), "'NOPE-USD' is not one"),
        (("--symbols", "BTC-USD", "--since", "last week"), "--since must be an ISO date"),
        (("--symbols", "BTC-USD", "--since", "1h", "--until", "2h"), "--since must be before"),
    ],
)
def test_download_refuses_bad_input_with_one_line(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    done = _perpsbot(tmp_path, "data", "download", *args)

    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr
