"""Where a bot keeps its journal and its shell socket, from its profile, file and environment
alone.

``perpsbot status``, ``shell`` and ``journal`` attach to a bot that runs; they need to know
where it is, not to be able to run it. So they read only ``journal.path`` and
``control.socket_path`` the way :func:`load_config` layers them (profile defaults, the TOML
file, ``PERPSBOT_JOURNAL_PATH`` and ``PERPSBOT_CONTROL_SOCKET_PATH``) and nothing else: no
credentials, no ``--live``, and no other key, so they still attach after a reload was
rejected for a broken value, which is when an operator most needs them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from perpsbot.config._bot import Profile
from perpsbot.config._control import ControlConfig, shell_socket
from perpsbot.config._loader import choose_profile, env_var, read_toml
from perpsbot.config._profiles import profile_defaults
from perpsbot.config._rules import rule_of
from perpsbot.config._trading import JournalConfig
from perpsbot.errors import InvalidConfigError

__all__ = ["BotLocation", "locate_bot"]


@attrs.frozen(kw_only=True)
class BotLocation:
    """Where a bot's journal and shell socket are, and, for messages, what said so."""

    journal: Path
    socket: Path
    source: str
    """``profile dev``, ``profile prod and bot.toml``, ... (the environment included)."""


def locate_bot(path: Path | None, *, profile: str | None, env: Mapping[str, str]) -> BotLocation:
    """The journal and socket of a bot started with the configuration file ``path`` (or none),
    ``profile`` (else ``PERPSBOT_PROFILE``, else the file's ``profile``, else ``dev``) and the
    environment ``env``.

    Raises:
        InvalidConfigError: the file cannot be read or parsed, the profile is unknown, or
            ``journal.path`` or ``control.socket_path`` is not a path.
    """
    document = read_toml(path) if path is not None else {}
    chosen = choose_profile(profile, env, document, str(path))
    journal = _value(
        JournalConfig, "path", profile=chosen, document=document, env=env, origin=str(path)
    )
    socket = _value(
        ControlConfig, "socket_path", profile=chosen, document=document, env=env, origin=str(path)
    )
    assert isinstance(journal, Path)
    assert socket is None or isinstance(socket, Path)
    origins = [f"profile {chosen}"] + ([str(path)] if path is not None else [])
    overridden = [
        var for var in (env_var("journal", "path"), env_var("control", "socket_path")) if var in env
    ]
    return BotLocation(
        journal=journal,
        socket=shell_socket(socket, journal),
        source=" and ".join(origins + overridden),
    )


def _value(
    section: type[JournalConfig] | type[ControlConfig],
    key: str,
    *,
    profile: Profile,
    document: Mapping[str, Any],
    env: Mapping[str, str],
    origin: str,
) -> object:
    """``section.key`` as the loader layers it: default, profile, file, environment."""
    name = section.SECTION
    field = next(f for f in attrs.fields(section) if f.name == key)
    value, written, where = field.default, None, ""
    defaults = profile_defaults(profile).get(name, {})
    if key in defaults:
        value = defaults[key]
    table = document.get(name)
    if isinstance(table, dict) and key in table:
        value = written = table[key]
        where = origin
    var = env_var(name, key)
    if var in env:
        value = written = env[var]
        where = var
    if written is not None:
        rule = rule_of(field)
        value = rule.convert(written)
        try:
            rule.enforce(f"{name}.{key}", value, written=written)
        except InvalidConfigError as error:
            raise InvalidConfigError(f"{error} (from {where})") from None
    return value
