"""Every way a configuration file can fail to be read or parsed is one InvalidConfigError."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from perpsbot.config import MAX_FILE_BYTES, load_config
from perpsbot.errors import InvalidConfigError

READABLE = "config file must be a readable UTF-8 text file of at most 1 MiB"


def _not_utf8(path: Path) -> None:
    path.write_bytes(b"\xff\xfe[")


def _nested_arrays(path: Path) -> None:
    path.write_text("a = " + "[" * 5000 + "]" * 5000)


def _nested_tables(path: Path) -> None:
    path.write_text("a = " + "{b = " * 3000 + "1" + "}" * 3000)


def _too_many_digits(path: Path) -> None:
    path.write_text("[market_data]\nshort_ma = " + "9" * 5000 + "\n")


def _a_directory(path: Path) -> None:
    path.mkdir()


def _a_fifo(path: Path) -> None:
    os.mkfifo(path)


def _huge(path: Path) -> None:
    with path.open("wb") as file:
        file.truncate(MAX_FILE_BYTES + 1)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_not_utf8, f"{READABLE}, was '{{path}}' (not UTF-8: byte 0xff at offset 0)"),
        (_nested_arrays, "config file must be valid TOML, was '{path}' (nested too deeply)"),
        (_nested_tables, "config file must be valid TOML, was '{path}' (nested too deeply)"),
        (
            _too_many_digits,
            "config file must be valid TOML, was '{path}' (Exceeds the limit (4300 digits)",
        ),
        (_a_directory, f"{READABLE}, was '{{path}}' (Is a directory)"),
        (_a_fifo, f"{READABLE}, was '{{path}}' (not a regular file)"),
        (_huge, f"{READABLE}, was '{{path}}' (larger)"),
    ],
)
def test_a_file_that_cannot_be_read_or_parsed_is_a_config_error_naming_it(
    tmp_path: Path, make: Callable[[Path], None], message: str
) -> None:
    path = tmp_path / "bot.toml"
    make(path)

    with pytest.raises(InvalidConfigError) as caught:
        load_config(path, profile=None, env={})

    assert str(caught.value).startswith(message.format(path=path))


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_a_file_without_read_permission_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "bot.toml"
    path.write_text("[risk]\n")
    path.chmod(0)

    with pytest.raises(InvalidConfigError) as caught:
        load_config(path, profile=None, env={})

    assert str(caught.value) == f"{READABLE}, was '{path}' (Permission denied)"


def test_a_path_with_a_nul_byte_is_a_config_error() -> None:
    with pytest.raises(InvalidConfigError, match=r"\(not a valid path\)$"):
        load_config(Path("bot\0.toml"), profile=None, env={})


def test_an_empty_file_is_the_profile_defaults(tmp_path: Path) -> None:
    path = tmp_path / "bot.toml"
    path.write_bytes(b"")

    assert load_config(path, profile=None, env={}) == load_config(None, profile=None, env={})


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"\xff\xfe{", "(not UTF-8: byte 0xff at offset 0)"),
        (b"[" * 100_000, "(not JSON)"),
        (b'{"name": 1' + b"0" * 5000 + b"}", "(not JSON)"),
    ],
)
def test_a_key_file_that_cannot_be_read_or_parsed_is_a_config_error(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    key_file = tmp_path / "key.json"
    key_file.write_bytes(content)

    with pytest.raises(InvalidConfigError) as caught:
        load_config(None, profile=None, env={"PERPSBOT_VENUE_API_KEY_FILE": str(key_file)})

    assert str(caught.value).startswith("venue.api_key_file must be a ")
    assert str(caught.value).endswith(f"was '{key_file}' {reason}")


def test_a_key_file_that_is_a_directory_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidConfigError) as caught:
        load_config(None, profile=None, env={"PERPSBOT_VENUE_API_KEY_FILE": str(tmp_path)})

    assert str(caught.value) == (
        "venue.api_key_file must be a readable UTF-8 text file of at most 1 MiB,"
        f" was '{tmp_path}' (Is a directory)"
    )


def test_a_key_file_with_a_key_that_does_not_parse_is_rejected_without_showing_it(
    tmp_path: Path,
) -> None:
    key_file = tmp_path / "key.json"
    secret = "-----BEGIN EC PRIVATE KEY-----\nc2VjcmV0c2VjcmV0\n-----END EC PRIVATE KEY-----\n"
    key_file.write_text(json.dumps({"name": "organizations/o/apiKeys/k", "privateKey": secret}))

    with pytest.raises(InvalidConfigError) as caught:
        load_config(None, profile=None, env={"PERPSBOT_VENUE_API_KEY_FILE": str(key_file)})

    assert str(caught.value).startswith("venue.api_private_key must be an unencrypted PEM")
    assert "c2VjcmV0c2VjcmV0" not in str(caught.value)
