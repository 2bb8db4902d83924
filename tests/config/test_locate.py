"""Finding a bot's journal and shell socket from its profile, file and environment alone."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from perpsbot.config import BotLocation, locate_bot
from perpsbot.errors import InvalidConfigError


def test_a_real_money_profile_is_located_without_credentials_or_live() -> None:
    assert locate_bot(None, profile="prod", env={}) == BotLocation(
        journal=Path("var/prod/journal.sqlite3"),
        socket=Path("var/prod/control/shell.sock"),
        source="profile prod",
    )


def test_a_file_with_broken_values_still_says_where_its_bot_is(
    write_toml: Callable[[str], Path],
) -> None:
    path = write_toml(
        'profile = "canary"\n[journal]\npath = "/srv/bot/j.sqlite3"\n'
        "[risk]\nmax_leverage = -2\nno_such_key = 1\n[strategy]\nleverage = 'x'\n"
    )

    location = locate_bot(path, profile=None, env={})

    assert location.journal == Path("/srv/bot/j.sqlite3")
    assert location.socket == Path("/srv/bot/control/shell.sock")
    assert location.source == f"profile canary and {path}"


def test_the_environment_wins_over_the_file_as_for_run(write_toml: Callable[[str], Path]) -> None:
    path = write_toml('[control]\nsocket_path = "/run/a.sock"\n[journal]\npath = "j.sqlite3"\n')
    env = {"PERPSBOT_CONTROL_SOCKET_PATH": "/run/b.sock", "PERPSBOT_PROFILE": "prod"}

    location = locate_bot(path, profile=None, env=env)

    assert (location.journal, location.socket) == (Path("j.sqlite3"), Path("/run/b.sock"))
    assert location.source == f"profile prod and {path} and PERPSBOT_CONTROL_SOCKET_PATH"


def test_a_journal_path_that_is_no_path_is_refused_naming_the_key_and_where_it_came_from() -> None:
    with pytest.raises(InvalidConfigError) as caught:
        locate_bot(None, profile="dev", env={"PERPSBOT_JOURNAL_PATH": "."})

    assert str(caught.value) == (
        "journal.path must be a file path, was '.' (from PERPSBOT_JOURNAL_PATH)"
    )
