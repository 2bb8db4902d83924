"""Write a configuration back out as TOML that :func:`load_config` reads to an equal config."""

from __future__ import annotations

import enum
import json
from decimal import Decimal
from pathlib import Path

from perpsbot.config._bot import SECTION_TYPES, BotConfig, sections
from perpsbot.config._rules import config_keys

__all__ = ["render_toml"]


def render_toml(config: BotConfig) -> str:
    """The configuration as TOML, without secrets and without ``live``.

    An unset optional key is written as ``key = ""``, which the loader reads as unset whatever
    the profile's default for it. Fields that are not file keys (credentials,
    the embedded exchange's public keys) are never written; the file names ``api_key_file`` if
    one is configured.
    """
    lines = [f"profile = {_value(config.profile)}"]
    for name, section in sections(config).items():
        lines.extend(("", f"[{name}]"))
        for field in config_keys(SECTION_TYPES[name]):
            value = getattr(section, field.name)
            if value is None:
                lines.append(f'{field.name} = ""  # unset')
            else:
                lines.append(f"{field.name} = {_value(value)}")
    return "\n".join(lines) + "\n"


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return _string(value.value)
    if isinstance(value, str | Path):
        return _string(str(value))
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, tuple) and value and all(isinstance(i, tuple) for i in value):
        return "{ " + ", ".join(f"{_value(k)} = {_value(v)}" for k, v in value) + " }"
    if isinstance(value, tuple):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    return repr(value)


def _string(text: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's, but JSON's surrogate pairs for
    characters beyond U+FFFF are not, so those are written as they are (UTF-8)."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")
