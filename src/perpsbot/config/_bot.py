"""The root configuration: the profile, the live switch and one value per section."""

from __future__ import annotations

import enum
import types
from collections.abc import Mapping
from typing import ClassVar

import attrs

from perpsbot.config._control import ControlConfig
from perpsbot.config._global_venue import global_endpoints
from perpsbot.config._rules import BOOLEAN, one_of, raise_if_any, require
from perpsbot.config._sections import MarketDataConfig, RuntimeConfig
from perpsbot.config._sim import SimConfig
from perpsbot.config._trading import ExecutionConfig, JournalConfig, RiskConfig, StrategyConfig
from perpsbot.config._venue import VenueConfig, VenueKind
from perpsbot.errors import InvalidConfigError

__all__ = ["SECTION_TYPES", "BotConfig", "Profile", "sections"]


class Profile(enum.StrEnum):
    """A set of defaults: ``dev`` trades paper money on the embedded exchange, ``global-dev``
    on its Global Derivatives face; ``canary`` and ``prod`` trade real money on Coinbase and
    need credentials and an explicit ``--live``."""

    DEV = "dev"
    CANARY = "canary"
    PROD = "prod"
    GLOBAL_DEV = "global-dev"


_is = attrs.validators.instance_of
LIVE_PROFILES = frozenset({Profile.CANARY, Profile.PROD})

#: Section name -> section class, in the order the sections are loaded, shown and diffed.
SECTION_TYPES: Mapping[str, type[attrs.AttrsInstance]] = types.MappingProxyType(
    {
        "venue": VenueConfig,
        "sim": SimConfig,
        "market_data": MarketDataConfig,
        "runtime": RuntimeConfig,
        "risk": RiskConfig,
        "strategy": StrategyConfig,
        "execution": ExecutionConfig,
        "journal": JournalConfig,
        "control": ControlConfig,
    }
)


@attrs.frozen(kw_only=True)
class BotConfig:
    """The whole configuration of one bot process. Change it with ``attrs.evolve``.

    Each section is a unit of restart (see :func:`sections` and :func:`diff_config`).
    ``profile`` and ``live`` hold for the life of the process.
    """

    SECTION: ClassVar[str] = ""

    profile: Profile = attrs.field(default=Profile.DEV, validator=one_of(Profile))
    live: bool = attrs.field(default=False, validator=BOOLEAN)
    venue: VenueConfig = attrs.field(factory=VenueConfig, validator=_is(VenueConfig))
    sim: SimConfig = attrs.field(factory=SimConfig, validator=_is(SimConfig))
    market_data: MarketDataConfig = attrs.field(
        factory=MarketDataConfig, validator=_is(MarketDataConfig)
    )
    runtime: RuntimeConfig = attrs.field(factory=RuntimeConfig, validator=_is(RuntimeConfig))
    risk: RiskConfig = attrs.field(factory=RiskConfig, validator=_is(RiskConfig))
    strategy: StrategyConfig = attrs.field(factory=StrategyConfig, validator=_is(StrategyConfig))
    execution: ExecutionConfig = attrs.field(
        factory=ExecutionConfig, validator=_is(ExecutionConfig)
    )
    journal: JournalConfig = attrs.field(factory=JournalConfig, validator=_is(JournalConfig))
    control: ControlConfig = attrs.field(factory=ControlConfig, validator=_is(ControlConfig))

    def __attrs_post_init__(self) -> None:
        errors: list[str] = []
        real_money = self.profile in LIVE_PROFILES
        require(
            not real_money or self.live,
            f"profile '{self.profile}' trades real money and needs an explicit --live,"
            " was live=False",
            errors,
        )
        require(
            not real_money or self.venue.credentials is not None,
            f"profile '{self.profile}' needs CDP API credentials (venue.api_key_file, or"
            " PERPSBOT_VENUE_API_KEY_NAME and PERPSBOT_VENUE_API_PRIVATE_KEY), found none",
            errors,
        )
        require(
            real_money or not self.live,
            f"live must be false for profile '{self.profile}', which trades paper money;"
            " live trading needs profile 'canary' or 'prod'",
            errors,
        )
        require(
            real_money or self.venue.kind is not VenueKind.COINBASE,
            "venue.kind 'coinbase' places real orders and needs profile 'canary' or 'prod'"
            f" with --live, was profile '{self.profile}'",
            errors,
        )
        try:  # a global venue's endpoints, and the real-money guard on them
            global_endpoints(self.venue, live=self.live)
        except InvalidConfigError as error:
            errors.append(str(error))
        # The signal needs long_ma + 1 samples (two crossings of the averages) plus the
        # confirmation bars, and the mark window keeps max(short_ma, long_ma) + 5 of them: a
        # configuration past that could never signal (the original's spot windows never did).
        market = self.market_data
        needed = market.long_ma + 1 + self.strategy.confirm_bars
        kept = max(market.short_ma, market.long_ma) + 5
        require(
            needed <= kept,
            f"strategy.confirm_bars must be at most {kept - market.long_ma - 1} with"
            f" market_data.long_ma = {market.long_ma} (a signal needs long_ma + 1 + confirm_bars"
            f" = {needed} samples and the mark window keeps max(short_ma, long_ma) + 5 = {kept}),"
            f" was '{self.strategy.confirm_bars}': this strategy could never signal",
            errors,
        )
        # Entries are sized within every notional cap risk applies (see the strategy's
        # entry_notional), but an intent's own leverage is checked as it is: past the cap,
        # risk would deny every futures entry.
        strategy, risk = self.strategy, self.risk
        require(
            strategy.leverage <= risk.max_leverage,
            f"strategy.leverage must be at most risk.max_leverage ({risk.max_leverage}), was"
            f" '{strategy.leverage}': risk denies an entry whose leverage passes the cap, so this"
            " strategy's entries on futures could never pass risk",
            errors,
        )
        raise_if_any(errors)


def sections(config: BotConfig) -> Mapping[str, object]:
    """Section name -> section value, in :data:`SECTION_TYPES` order (read-only).

    This is what the supervisor compares to decide which children a reload restarts.
    """
    return types.MappingProxyType({name: getattr(config, name) for name in SECTION_TYPES})
