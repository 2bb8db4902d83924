"""Build a :class:`BotConfig` from profile defaults, a TOML file and the environment.

This is the only place that reads configuration files, key files and environment variables;
actors receive the finished, frozen config.

Environment variables are named ``PERPSBOT_<SECTION>_<KEY>`` in upper case, for example
``PERPSBOT_MARKET_DATA_SHORT_MA=8`` or ``PERPSBOT_RISK_KILL_SWITCH=true``. Lists are
comma-separated (``PERPSBOT_MARKET_DATA_SYMBOLS=BTC-USD,ETH-USD``), booleans are
``1/true/yes/on`` or ``0/false/no/off``, and an empty value unsets an optional key.
``PERPSBOT_PROFILE`` picks the profile. The API key comes only from
``PERPSBOT_VENUE_API_KEY_NAME`` with ``PERPSBOT_VENUE_API_PRIVATE_KEY``, or from the JSON key
file named by ``venue.api_key_file``. ``live`` comes only from the command line (``--live``).
Relative paths are relative to the working directory.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from perpsbot._paths import shown
from perpsbot.config._bot import SECTION_TYPES, BotConfig, Profile
from perpsbot.config._files import read_text
from perpsbot.config._profiles import profile_defaults
from perpsbot.config._rules import SET_ELSEWHERE, config_keys, one_of, raise_if_any, rule_of
from perpsbot.config._venue import Credentials
from perpsbot.errors import InvalidConfigError

__all__ = ["ENV_PREFIX", "choose_profile", "env_var", "load_config", "read_toml"]

ENV_PREFIX = "PERPSBOT_"
_KEY_NAME_VAR = "PERPSBOT_VENUE_API_KEY_NAME"
_PRIVATE_KEY_VAR = "PERPSBOT_VENUE_API_PRIVATE_KEY"
_SECRET_KEYS = frozenset({"api_key_name", "api_private_key", "credentials"})
_PROFILE_RULE = one_of(Profile)

# section -> key -> (value, where it came from: "" for profile defaults, else a file or a var)
_Raw = dict[str, dict[str, tuple[object, str]]]


def env_var(section: str, key: str) -> str:
    """The environment variable that overrides ``section.key``."""
    return f"{ENV_PREFIX}{section}_{key}".upper()


def load_config(
    path: Path | None = None,
    *,
    profile: str | None = None,
    env: Mapping[str, str],
    live: bool = False,
) -> BotConfig:
    """Load and validate the configuration.

    Values are layered, later winning: the defaults of the profile, the TOML file at ``path``
    (if any), then ``PERPSBOT_<SECTION>_<KEY>`` variables in ``env``. The profile is
    ``profile``, else ``PERPSBOT_PROFILE``, else the file's ``profile`` key, else ``dev``.
    ``live`` is the command line's explicit ``--live``.

    Raises:
        InvalidConfigError: naming every unknown key and every broken value found, or the file
            or key file could not be read.
    """
    document = read_toml(path) if path is not None else {}
    errors: list[str] = []
    chosen = choose_profile(profile, env, document, str(path))
    raw: _Raw = {
        name: {key: (value, "") for key, value in values.items()}
        for name, values in profile_defaults(chosen).items()
    }
    _layer_file(raw, document, str(path), errors)
    _layer_env(raw, env, errors)
    values = _converted(raw, errors)
    credentials = _credentials(env, values.get("venue", {}).get("api_key_file"), errors)
    raise_if_any(errors)

    built: dict[str, Any] = {}
    for name, kind in SECTION_TYPES.items():
        try:
            built[name] = kind(**values.get(name, {}), **_extra(name, credentials))
        except InvalidConfigError as error:
            errors.append(str(error))
    raise_if_any(errors)
    return BotConfig(profile=chosen, live=live, **built)


def _extra(section: str, credentials: Credentials | None) -> dict[str, object]:
    return {"credentials": credentials} if section == "venue" else {}


def read_toml(path: Path) -> dict[str, Any]:
    text = read_text(path, what="config file")
    try:
        return tomllib.loads(text)
    except ValueError as error:  # TOMLDecodeError, or an integer of too many digits
        reason = str(error)
    except RecursionError:
        reason = "nested too deeply"
    raise InvalidConfigError(f"config file must be valid TOML, was '{shown(path)}' ({reason})")


def choose_profile(
    argument: str | None, env: Mapping[str, str], document: Mapping[str, Any], path: str
) -> Profile:
    chosen: list[Profile] = []
    for value, origin in (
        (argument, "--profile"),
        (env.get(f"{ENV_PREFIX}PROFILE"), f"{ENV_PREFIX}PROFILE"),
        (document.get("profile"), path),
    ):
        if value is not None:
            converted = _PROFILE_RULE.convert(value)
            _PROFILE_RULE.enforce(f"profile (from {origin})", converted)
            chosen.append(Profile(str(converted)))
    return chosen[0] if chosen else Profile.DEV


def _layer_file(raw: _Raw, document: Mapping[str, Any], path: str, errors: list[str]) -> None:
    for name, table in document.items():
        if name == "profile":
            continue
        if name == "live":
            errors.append(f"live must come from the command line (--live), never from {path}")
        elif name not in SECTION_TYPES:
            errors.append(
                f"{path} has an unknown key '{name}'; expected 'profile' or a section: "
                + ", ".join(SECTION_TYPES)
            )
        elif not isinstance(table, dict):
            errors.append(f"{name} must be a table ([{name}]) in {path}, was '{table}'")
        else:
            for key, value in table.items():
                if _settable(name, key, path, errors):
                    raw.setdefault(name, {})[key] = (value, path)


def _layer_env(raw: _Raw, env: Mapping[str, str], errors: list[str]) -> None:
    by_length = sorted(SECTION_TYPES, key=len, reverse=True)
    for var, value in sorted(env.items()):
        if not var.startswith(ENV_PREFIX) or var in (_KEY_NAME_VAR, _PRIVATE_KEY_VAR):
            continue
        rest = var.removeprefix(ENV_PREFIX)
        if rest == "PROFILE":
            continue
        if rest == "LIVE":
            errors.append(f"live must come from the command line (--live), never from {var}")
            continue
        section = next((s for s in by_length if rest.startswith(f"{s.upper()}_")), None)
        if section is None:
            errors.append(
                f"{var} is not a perpsbot setting; expected {ENV_PREFIX}PROFILE or"
                f" {ENV_PREFIX}<SECTION>_<KEY> with a section among: " + ", ".join(SECTION_TYPES)
            )
            continue
        key = rest.removeprefix(f"{section.upper()}_").lower()
        if _settable(section, key, var, errors):
            raw.setdefault(section, {})[key] = (value, var)


def _settable(section: str, key: str, origin: str, errors: list[str]) -> bool:
    if section == "venue" and key in _SECRET_KEYS:
        errors.append(
            f"venue.{key} must come from {_KEY_NAME_VAR} and {_PRIVATE_KEY_VAR} or from"
            f" venue.api_key_file, never from {origin}"
        )
        return False
    kind = SECTION_TYPES[section]
    elsewhere = {f.name: f.metadata.get(SET_ELSEWHERE) for f in attrs.fields(kind)}
    if elsewhere.get(key):
        errors.append(f"{section}.{key} must be {elsewhere[key]}, never from {origin}")
        return False
    names = [f.name for f in config_keys(kind)]
    if key not in names:
        errors.append(
            f"{section} has no key '{key}' (set in {origin}); expected one of: " + ", ".join(names)
        )
        return False
    return True


def _converted(raw: _Raw, errors: list[str]) -> dict[str, dict[str, object]]:
    values: dict[str, dict[str, object]] = {}
    for section, kind in SECTION_TYPES.items():
        entries = raw.get(section, {})
        for field in attrs.fields(kind):
            if field.name not in entries:
                continue
            value, origin = entries[field.name]
            key, rule = field.name, rule_of(field)
            converted = rule.convert(value)
            try:
                rule.enforce(f"{section}.{key}", converted, written=value)
            except InvalidConfigError as error:
                errors.append(f"{error} (from {origin})" if origin else str(error))
            values.setdefault(section, {})[key] = converted
    return values


def _credentials(env: Mapping[str, str], key_file: object, errors: list[str]) -> Credentials | None:
    name, pem = env.get(_KEY_NAME_VAR), env.get(_PRIVATE_KEY_VAR)
    if name is not None or pem is not None:
        if name is None or pem is None:
            errors.append(f"{_KEY_NAME_VAR} and {_PRIVATE_KEY_VAR} must be set together")
            return None
        return _build_credentials(name, pem, errors)
    if isinstance(key_file, Path):
        return _read_key_file(key_file, errors)
    return None


def _read_key_file(path: Path, errors: list[str]) -> Credentials | None:
    expected = "venue.api_key_file must be a CDP key JSON file with 'name' and 'privateKey'"
    try:
        document = json.loads(read_text(path, what="venue.api_key_file"))
    except InvalidConfigError as error:
        errors.append(str(error))
        return None
    except (ValueError, RecursionError):
        errors.append(f"{expected}, was '{path}' (not JSON)")
        return None
    name = document.get("name", document.get("id")) if isinstance(document, dict) else None
    pem = document.get("privateKey") if isinstance(document, dict) else None
    if not isinstance(name, str) or not isinstance(pem, str):
        errors.append(f"{expected}, was '{path}' (a key is missing)")
        return None
    return _build_credentials(name, pem, errors)


def _build_credentials(name: str, pem: str, errors: list[str]) -> Credentials | None:
    try:
        return Credentials(key_name=name, private_key_pem=pem)
    except InvalidConfigError as error:
        errors.append(str(error))
        return None
