from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.support.keys import GARBAGE_PEM

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
        "perpsbot config: market_data.short_ma must be a positive integer at most 10000,"
        " was '-2'"
        f" (from {path})\n"
    )


@pytest.mark.parametrize("how", ["--config FILE", "FILE", "--config FILE FILE"])
def test_check_and_show_take_the_file_as_config_like_every_command(
    how: str, write_toml: WriteToml, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_toml("[market_data]\nshort_ma = 3\n")
    given = [str(path) if word == "FILE" else word for word in how.split()]

    assert _run("check", *given) == 0
    assert _run("show", *given) == 0

    out = capsys.readouterr().out
    assert out.startswith('ok\nprofile = "dev"\n')
    assert "\nshort_ma = 3\n" in out


def test_check_refuses_two_different_files(
    write_toml: WriteToml, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_toml("[market_data]\nshort_ma = 3\n")

    assert _run("check", "--config", str(path), str(tmp_path / "other.toml")) == 2
    assert capsys.readouterr().err == (
        "perpsbot config: config check takes one file, as --config FILE or as FILE; was given"
        f" both '{path}' and '{tmp_path / 'other.toml'}'\n"
    )


def test_a_missing_file_named_relative_to_the_working_directory_is_shown_resolved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)

    assert _run("check", "--config", "conf/bot.toml") == 2
    assert capsys.readouterr().err == (
        "perpsbot config: config file must be a readable UTF-8 text file of at most 1 MiB, was"
        f" '{tmp_path}/conf/bot.toml' (No such file or directory)\n"
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


@pytest.mark.parametrize("action", ["check", "show", "diff"])
@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"\xff\xfe[", "(not UTF-8: byte 0xff at offset 0)"),
        (b"a = " + b"[" * 5000 + b"]" * 5000, "(nested too deeply)"),
    ],
    ids=["not-utf8", "nested"],
)
def test_every_action_reports_an_unparseable_file_in_one_line_and_exits_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    action: str,
    content: bytes,
    reason: str,
) -> None:
    bad, good = tmp_path / "bad.toml", tmp_path / "good.toml"
    bad.write_bytes(content)
    good.write_text("")
    files = (str(good), str(bad)) if action == "diff" else (str(bad),)

    assert _run(action, *files) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("perpsbot config: config file must be ")
    assert captured.err.endswith(f"was '{bad}' {reason}\n")
    assert captured.err.count("\n") == 1


def test_check_validates_the_private_key_itself_without_printing_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PERPSBOT_VENUE_API_KEY_NAME", "organizations/o/apiKeys/k")
    monkeypatch.setenv("PERPSBOT_VENUE_API_PRIVATE_KEY", GARBAGE_PEM)

    assert _run("check", "--profile", "canary", "--live") == 2
    err = capsys.readouterr().err
    assert err.startswith("perpsbot config: venue.api_private_key must be an unencrypted PEM")
    assert GARBAGE_PEM.splitlines()[1] not in err
