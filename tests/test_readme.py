"""The README's examples are run, so they cannot rot."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _example(name: str) -> str:
    text = README.read_text()
    match = re.search(rf"<!-- readme-example: {name} -->\n```python\n(.*?)```", text, re.DOTALL)
    assert match, f"README has no example marked {name!r}"
    return match.group(1)


def test_the_supervised_tree_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    code = _example("supervised-tree")
    assert 15 <= len(code.strip().splitlines()) <= 45
    exec(compile(code, "README.md", "exec"), {"__name__": "readme"})
    table = capsys.readouterr().out
    assert re.search(r"account\s+Account\s+running\s+2\s+1", table), table


def test_the_readme_gives_the_two_commands() -> None:
    text = README.read_text()
    assert "pip install -e . && perpsbot run --profile dev --duration 240" in text
    assert "pip install -e '.[dev]' && pytest" in text


def test_ci_runs_the_test_command_the_readme_gives() -> None:
    command = re.search(r"pip install -e '\.\[dev\]' && (pytest[^\n`]*)\n", README.read_text())
    assert command, "README gives no test command after pip install -e '.[dev]'"
    ci = (README.parent / ".ci" / "run").read_text()
    assert re.search(rf"^{re.escape(command.group(1))}$", ci, re.M), (
        f".ci/run must run the README's test command {command.group(1)!r}"
    )
