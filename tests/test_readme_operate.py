"""The README's commands for operating a running bot are run, so they cannot rot."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from perpsbot.runtime.testing import eventually

README = Path(__file__).resolve().parents[1] / "README.md"
PERPSBOT = f"{shlex.quote(sys.executable)} -m perpsbot"


def _commands() -> list[str]:
    text = README.read_text()
    match = re.search(r"<!-- readme-commands: operate -->\n```sh\n(.*?)```", text, re.DOTALL)
    assert match, "README has no commands marked 'operate'"
    return match.group(1).strip().splitlines()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.mark.skipif(shutil.which("curl") is None, reason="the README uses curl")
def test_the_operating_commands_work_against_a_running_bot(tmp_path: Path) -> None:
    port = str(_free_port())
    start, *rest = [
        line.replace("9464", port).replace("perpsbot ", f"{PERPSBOT} ") for line in _commands()
    ]
    assignment, command = start.removesuffix("&").strip().split(" ", 1)
    name, value = assignment.split("=")
    bot = subprocess.Popen(
        f"exec {command}",  # the shell becomes the bot: the signal and exit code are its own
        shell=True,
        cwd=tmp_path,
        env={**os.environ, name: value},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
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
    assert code == 0


def _ready(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.ConnectionError:
        return False
