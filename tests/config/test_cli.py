from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import pytest

from perpsbot.config import cli

WriteToml = Callable[[str], Path]


def _run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="perpsbot config")
    cli.configure_parser(parser)
    return cli.run(parser.parse_args(argv))


def test_check_of_a_valid_file_prints_ok(
    write_toml: WriteToml, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_toml("[market_data]\nshort_ma = 3\n")

    assert _run("check", str(path)) == 0
    assert capsys.readouterr().out == "ok\n"


def test_check_of_an_invalid_file_exits_2_with_the_message(
    write_toml: WriteToml, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_toml("[market_data]\nshort_ma = -2\n")

    assert _run("check", str(path)) == 2
    assert capsys.readouterr().err == (
        "perpsbot config: market_data.short_ma must be a positive integer, was '-2'"
        f" (from {path})\n"
    )


def test_show_prints_the_effective_config_including_the_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PERPSBOT_MARKET_DATA_SHORT_MA", "7")

    assert _run("show") == 0
    out = capsys.readouterr().out
    assert out.startswith('profile = "dev"\n')
    assert "\nshort_ma = 7\n" in out


def test_diff_prints_the_changed_sections_and_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = tmp_path / "old.toml", tmp_path / "new.toml"
    old.write_text("[risk]\nkill_switch = false\n")
    new.write_text("[risk]\nkill_switch = true\n")

    assert _run("diff", str(old), str(new)) == 0
    assert capsys.readouterr().out == "[risk]\n  risk.kill_switch: False -> True\n"
