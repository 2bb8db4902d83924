"""The README's commands for operating a running bot are run, so they cannot rot."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from perpsbot.runtime.testing import eventually
from tests.support.streams import Lines

# The README's commands, run as a user would: perpsbot processes (pytest -m 'not slow' skips it).
pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parents[1] / "README.md"
PERPSBOT = f"{shlex.quote(sys.executable)} -m perpsbot"


def _commands() -> list[str]:
    text = README.read_text()
    match = re.search(r"<!-- readme-commands: operate -->\n```sh\n(.*?)```", text, re.DOTALL)
    assert match, "README has no commands marked 'operate'"
    return match.group(1).strip().splitlines()


@pytest.mark.skipif(shutil.which("curl") is None, reason="the README uses curl")
def test_the_operating_commands_work_against_a_running_bot(tmp_path: Path) -> None:
    start, *rest = [line.replace("perpsbot ", f"{PERPSBOT} ") for line in _commands()]
    assignment, command = start.removesuffix("&").strip().split(" ", 1)
    name, value = assignment.split("=")
    assert value == "9464"
    bot = subprocess.Popen(
        f"exec {command}",  # the shell becomes the bot: the signal and exit code are its own
        shell=True,
        cwd=tmp_path,
        # Port 0, then the port it printed: a port found free here could be taken before the
        # bot binds it, by anything else running on the machine.
        env={**os.environ, name: "0"},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert bot.stdout is not None
    out = Lines(bot.stdout)
    try:
        metrics = out.until("  metrics  ").split()[1]
        url = re.fullmatch(r"http://127\.0\.0\.1:(\d+)/metrics", metrics)
        assert url, metrics
        port = url.group(1)
        rest = [line.replace("9464", port) for line in rest]
        eventually(
            lambda: _ready(f"http://127.0.0.1:{port}/readyz"), timeout_s=30, what="the bot ready"
        )
        for line in rest:
            done = subprocess.run(
                line, shell=True, cwd=tmp_path, capture_output=True, text=True, timeout=30,
                check=False,
            )  # fmt: skip
            assert done.returncode == 0, (line, done.stderr)
            assert done.stdout.strip(), line
    finally:
        bot.send_signal(signal.SIGTERM)
        try:
            code = bot.wait(timeout=30)
        finally:
            if bot.poll() is None:
                bot.kill()
            out.close()
    assert code == 0


def _ready(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.ConnectionError:
        return False
