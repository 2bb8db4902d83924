"""Every ``perpsbot`` command of the README's "Going live" section is a real command: run
without credentials in an empty directory, each is refused for want of a key, a bot or a
journal, never for an option or a command that does not exist."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _commands() -> list[str]:
    text = README.read_text()
    section = text.split("\n## Going live\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.DOTALL)
    lines = [line.split("  #")[0].strip() for block in blocks for line in block.splitlines()]
    return [line for line in lines if line.startswith("perpsbot ")]


def test_the_going_live_section_shows_the_commands_it_describes() -> None:
    words = [" ".join(shlex.split(c)[:2]) for c in _commands()]
    assert words == [
        "perpsbot account", "perpsbot order", "perpsbot run", "perpsbot status",
        "perpsbot shell", "perpsbot shell", "perpsbot shell", "perpsbot journal",
    ]  # fmt: skip


@pytest.mark.slow  # a perpsbot process per command
@pytest.mark.parametrize("command", _commands())
def test_a_going_live_command_exists_with_every_option_it_shows(
    command: str, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERPSBOT_")}
    done = subprocess.run(
        [sys.executable, "-m", "perpsbot", *shlex.split(command)[1:]],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    assert done.returncode in (1, 2), (done.stdout, done.stderr)
    assert "usage:" not in done.stderr, done.stderr  # argparse knows the command and options
    assert re.search(r"needs CDP API credentials|no perpsbot shell socket|must exist", done.stderr)
