from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import attrs

from perpsbot.config import Credentials, load_config, render_toml

WriteToml = Callable[[str], Path]


def test_rendered_dev_config_loads_back_to_an_equal_config(write_toml: WriteToml) -> None:
    config = load_config(None, profile="dev", env={})

    assert load_config(write_toml(render_toml(config)), profile=None, env={}) == config


def test_rendered_config_with_changed_values_loads_back_equal(write_toml: WriteToml) -> None:
    config = load_config(None, profile="dev", env={})
    config = attrs.evolve(
        config,
        venue=attrs.evolve(config.venue, rest_base_url="http://127.0.0.1:8080/api"),
        strategy=attrs.evolve(config.strategy, trailing_stop_pct=Decimal("0.0125")),
        journal=attrs.evolve(config.journal, path=Path('/tmp/j "x".sqlite3')),
    )

    assert load_config(write_toml(render_toml(config)), profile=None, env={}) == config


def test_unset_keys_and_any_character_in_a_path_load_back_equal(write_toml: WriteToml) -> None:
    config = load_config(None, profile="dev", env={})
    config = attrs.evolve(
        config,
        # unset keys whose default is set: the file must unset them, not leave them out
        sim=attrs.evolve(config.sim, tick_interval_s=None, subscribe_timeout_s=None),
        journal=attrs.evolve(config.journal, path=Path("/tmp/\U0001f4c8 journal\x7f.sqlite3")),
    )

    assert load_config(write_toml(render_toml(config)), profile=None, env={}) == config


def test_rendered_config_never_contains_credentials_or_live(
    credentials_env: dict[str, str], private_pem: str
) -> None:
    config = load_config(None, profile="prod", env=credentials_env, live=True)
    config = attrs.evolve(
        config,
        venue=attrs.evolve(
            config.venue, credentials=Credentials(key_name="k", private_key_pem=private_pem)
        ),
    )

    text = render_toml(config)

    assert private_pem.splitlines()[1] not in text
    assert "credentials" not in text
    assert "live" not in text
    assert text.startswith('profile = "prod"\n')
