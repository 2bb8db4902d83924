"""Configuration: frozen attrs sections, loaded from profile defaults, TOML and the environment.

A :class:`BotConfig` holds one frozen value per section (``venue``, ``sim``, ``market_data``,
``runtime``, ``risk``, ``strategy``, ``execution``, ``journal``, ``control``). Each section
is a unit of restart: a reload compares sections with :func:`diff_config` and restarts only
what depends on the changed ones.

Typical use::

    config = load_config(Path("bot.toml"), profile=None, env=os.environ, live=args.live)
    supervisor_sections = sections(config)

``load_config`` documents the ``PERPSBOT_<SECTION>_<KEY>`` environment variables;
``examples/dev.toml`` is a complete file with every key.
"""

from __future__ import annotations

from perpsbot.config._bot import SECTION_TYPES, BotConfig, Profile, sections
from perpsbot.config._control import ControlConfig, shell_socket
from perpsbot.config._diff import ConfigDiff, KeyChange, diff_config
from perpsbot.config._files import MAX_FILE_BYTES, read_text
from perpsbot.config._global_venue import GLOBAL_PRODUCTION, GlobalEndpoints, global_endpoints
from perpsbot.config._loader import ENV_PREFIX, env_var, load_config
from perpsbot.config._locate import BotLocation, locate_bot
from perpsbot.config._render import render_toml
from perpsbot.config._rules import config_keys
from perpsbot.config._sections import Channel, MarketDataConfig, RuntimeConfig
from perpsbot.config._sim import DuplicateClientOrderId, FillModel, SimConfig
from perpsbot.config._trading import (
    WEEKDAYS,
    ExecutionConfig,
    JournalConfig,
    RiskConfig,
    StrategyConfig,
    Synchronous,
)
from perpsbot.config._venue import (
    REQUEST_TIMEOUT,
    Credentials,
    VenueConfig,
    VenueKind,
)

__all__ = [
    "ENV_PREFIX",
    "GLOBAL_PRODUCTION",
    "MAX_FILE_BYTES",
    "REQUEST_TIMEOUT",
    "SECTION_TYPES",
    "WEEKDAYS",
    "BotConfig",
    "BotLocation",
    "Channel",
    "ConfigDiff",
    "ControlConfig",
    "Credentials",
    "DuplicateClientOrderId",
    "ExecutionConfig",
    "FillModel",
    "GlobalEndpoints",
    "JournalConfig",
    "KeyChange",
    "MarketDataConfig",
    "Profile",
    "RiskConfig",
    "RuntimeConfig",
    "SimConfig",
    "StrategyConfig",
    "Synchronous",
    "VenueConfig",
    "VenueKind",
    "config_keys",
    "diff_config",
    "env_var",
    "global_endpoints",
    "load_config",
    "locate_bot",
    "read_text",
    "render_toml",
    "sections",
    "shell_socket",
]
