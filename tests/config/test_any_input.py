from __future__ import annotations

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from perpsbot.config import SECTION_TYPES, BotConfig, env_var, load_config
from perpsbot.errors import InvalidConfigError

_SETTABLE = [
    env_var(section, field.name)
    for section, kind in SECTION_TYPES.items()
    for field in attrs.fields(kind)
    if field.name != "credentials"
]


@settings(derandomize=True, max_examples=150)
@given(st.dictionaries(st.sampled_from(_SETTABLE), st.text(max_size=12), max_size=4))
def test_any_environment_either_loads_or_raises_a_config_error(env: dict[str, str]) -> None:
    message = ""
    try:
        config = load_config(None, profile=None, env=env)
    except InvalidConfigError as error:
        message = str(error)
    else:
        assert isinstance(config, BotConfig)
        return
    assert " must " in message or " has no key " in message
