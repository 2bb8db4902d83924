"""Whatever the environment or the file holds, loading gives a config or one InvalidConfigError."""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perpsbot.config import SECTION_TYPES, BotConfig, config_keys, env_var, load_config
from perpsbot.errors import InvalidConfigError

_SETTABLE = [
    env_var(section, field.name)
    for section, kind in SECTION_TYPES.items()
    for field in config_keys(kind)
]


def _outcome(path: Path | None, env: Mapping[str, str]) -> None:
    """Load; the only outcomes allowed are a BotConfig or an InvalidConfigError with a rule."""
    try:
        config = load_config(path, profile=None, env=env)
    except InvalidConfigError as error:
        message = str(error)
        assert " must " in message or " has no key " in message, message
    else:
        assert isinstance(config, BotConfig)


@pytest.fixture(scope="module")
def config_file() -> Iterator[Path]:
    """One file rewritten by every example (hypothesis cannot reuse function fixtures)."""
    with tempfile.TemporaryDirectory() as directory:
        yield Path(directory) / "bot.toml"


@pytest.mark.slow
@settings(derandomize=True, max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from(_SETTABLE), st.text(max_size=12), max_size=4))
def test_any_environment_either_loads_or_raises_a_config_error(env: dict[str, str]) -> None:
    _outcome(None, env)


@settings(derandomize=True, max_examples=200, deadline=None)
@given(data=st.binary(max_size=300))
def test_any_bytes_in_the_file_either_load_or_raise_a_config_error(
    config_file: Path, data: bytes
) -> None:
    config_file.write_bytes(data)

    _outcome(config_file, {})


_TOKENS = [*"[]{}=\"'.,#\n -_+:0123456789eE\\", "inf", "nan", "true", "false", "1979-05-27"]
_NAMES = ["market_data", "symbols", "short_ma", "runtime", "sim", "risk", "profile", "venue"]
_TOMLISH = st.lists(st.sampled_from(_TOKENS + _NAMES), max_size=40).map("".join)


@settings(derandomize=True, max_examples=200, deadline=None)
@given(text=_TOMLISH)
def test_any_toml_like_text_either_loads_or_raises_a_config_error(
    config_file: Path, text: str
) -> None:
    config_file.write_text(text, encoding="utf-8")

    _outcome(config_file, {})


def _toml(value: object) -> str:
    """A TOML literal for ``value`` (hand-written: the standard library only reads TOML)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    assert isinstance(value, dict)
    return "{" + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + "}"


_SCALARS = (
    st.booleans()
    | st.integers(min_value=-(2**64), max_value=2**64)
    | st.integers(min_value=10**300, max_value=10**400)  # beyond any float
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(
        [
            *("BTC-USD", "FOO-BAR", "127.0.0.1", "::1", "level2", "touch", "", "1e10", "nan"),
            *("http://[::1", "wss://h:99999/ws", "a\x00b", "http://h:0/x"),
        ]
    )
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)
_KEYS = st.sampled_from(
    [
        (section, field.name)
        for section, kind in SECTION_TYPES.items()
        for field in config_keys(kind)
    ]
    + [("venue", "credentials"), ("sim", "balances"), ("market_data", "nope")]
)


@pytest.mark.slow
@settings(derandomize=True, max_examples=300, deadline=None)
@given(entries=st.dictionaries(_KEYS, _VALUES, max_size=6))
def test_any_typed_values_under_real_keys_either_load_or_raise_a_config_error(
    config_file: Path, entries: dict[tuple[str, str], object]
) -> None:
    tables: dict[str, list[str]] = {}
    for (section, key), value in entries.items():
        tables.setdefault(section, []).append(f"{key} = {_toml(value)}")
    text = "".join(f"[{section}]\n" + "\n".join(lines) + "\n" for section, lines in tables.items())
    config_file.write_text(text, encoding="utf-8", errors="surrogatepass")

    _outcome(config_file, {})
