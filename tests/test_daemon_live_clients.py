"""A real-money profile's bot is operated without its credentials: ``perpsbot status``,
``shell -c`` and ``journal`` with ``--profile prod --live`` find its socket and journal from the
profile and the file alone, even after a reload of that file was rejected.

The bot runs ``prod --live`` with its CDP key from a key file (0600) against a separately
started ``perpsbot sim`` that verifies the key's JWTs; the clients get the same file and
profile, and no key at all."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.keys import make_key_pems
from tests.support.streams import Lines

_NO_PERPSBOT = {k: v for k, v in os.environ.items() if not k.startswith("PERPSBOT_")}


def _start(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "perpsbot", "--log-format", "text", *args],
        cwd=cwd,
        env={**_NO_PERPSBOT, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _client(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """A one-shot command as an operator types it: no credentials in its environment."""
    return subprocess.run(
        [sys.executable, "-m", "perpsbot", *args],
        cwd=cwd,
        env=_NO_PERPSBOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _stop(process: subprocess.Popen[str], *streams: Lines) -> int:
    process.send_signal(signal.SIGTERM)
    code = process.wait(timeout=30)
    for stream in streams:
        stream.close()
    return code


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """A ``perpsbot sim`` that accepts only JWTs of a key it was given; yields its REST and
    market URLs and the key file (CDP's JSON, 0600) the bot signs with."""
    private, public = make_key_pems()
    (tmp_path / "key.pub.pem").write_text(public)
    key_file = tmp_path / "cdp_api_key.json"
    key_file.write_text(json.dumps({"name": "organizations/o/apiKeys/prod", "privateKey": private}))
    key_file.chmod(0o600)
    process = _start("sim", "--seed", "5", "--public-key", "key.pub.pem", cwd=tmp_path)
    assert process.stdout is not None
    assert process.stderr is not None
    out, err = Lines(process.stdout), Lines(process.stderr)
    try:
        rest = out.until("rest:", timeout_s=60).split()[1]
        market = out.until("market ws:").split()[2]
        assert out.until("auth:").split(None, 1)[1] == "JWT verified\n"
        yield rest, market, str(key_file)
    finally:
        _stop(process, out, err)


@pytest.mark.slow
@pytest.mark.timeout(300)  # seven commands, each a Python process: slow on a busy machine
def test_status_shell_and_journal_reach_a_prod_bot_without_credentials_after_a_rejected_reload(
    tmp_path: Path, sim: tuple[str, str, str]
) -> None:
    rest, market, key_file = sim
    config = tmp_path / "bot.toml"
    good = (
        f'[venue]\nkind = "sim"\nrest_base_url = "{rest}"\nmarket_ws_url = "{market}"\n'
        "[market_data]\nupdate_interval_s = 0.5\n"
    )
    config.write_text(good)
    bot = _start(
        "run", "--profile", "prod", "--live", "--config", "bot.toml",
        cwd=tmp_path, env={"PERPSBOT_VENUE_API_KEY_FILE": key_file},
    )  # fmt: skip
    assert bot.stdout is not None
    assert bot.stderr is not None
    out, err = Lines(bot.stdout), Lines(bot.stderr)
    attach = ("--profile", "prod", "--live", "--config", "bot.toml")
    try:
        assert "profile prod (REAL MONEY)" in out.until("perpsbot ")
        out.until("trading active", timeout_s=120)  # the sim took its JWTs: reconciled

        def clients_work() -> None:
            status = _client("status", *attach, cwd=tmp_path)
            assert status.returncode in (0, 1), status.stderr  # answered: ready or not
            assert "profile prod" in status.stdout.splitlines()[0]
            assert "  risk " in status.stdout
            trading = _client("shell", *attach, "-c", "trading()", cwd=tmp_path)
            assert trading.returncode == 0, trading.stderr
            assert "active" in trading.stdout.lower()
            journal = _client("journal", "states", *attach, cwd=tmp_path)
            assert journal.returncode == 0, journal.stderr
            assert journal.stdout.startswith("journal var/prod/journal.sqlite3\n"), journal.stdout

        clients_work()

        config.write_text(good + "[risk]\nmax_leverage = -2\n")  # the watcher reloads it
        err.until("risk.max_leverage must be a positive number at most 100, was '-2'", 120)
        clients_work()  # attaching reads the socket's and journal's places, nothing else
    finally:
        code = _stop(bot, out, err)
    assert code == 0


@pytest.mark.slow
@pytest.mark.timeout(180)  # three commands, each a Python process
def test_without_a_running_bot_the_clients_name_the_option_that_points_at_it(
    tmp_path: Path,
) -> None:
    status = _client("status", "--profile", "prod", cwd=tmp_path)
    shell = _client("shell", "--profile", "prod", "-c", "1", cwd=tmp_path)
    journal = _client("journal", "--profile", "prod", "--live", cwd=tmp_path)

    socket = Path("var/prod/control/shell.sock")
    for done in (status, shell):
        assert done.returncode == 2
        assert f"no perpsbot shell socket at {socket}, where profile prod puts it" in done.stderr
        assert "--socket PATH" in done.stderr
    assert journal.returncode == 1
    where = (tmp_path / "var" / "prod" / "journal.sqlite3").resolve()  # from the cwd it ran in
    assert journal.stderr == (
        f"perpsbot journal: journal file {where} must exist to be read, found"
        " nothing (where profile prod puts it); name it with --journal FILE\n"
    )
    assert not (tmp_path / "var").exists()
