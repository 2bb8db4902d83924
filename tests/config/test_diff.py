from __future__ import annotations

from decimal import Decimal

import attrs
import pytest

from perpsbot.config import (
    BotConfig,
    ConfigDiff,
    Credentials,
    KeyChange,
    diff_config,
    load_config,
    sections,
)


@pytest.fixture
def config() -> BotConfig:
    return load_config(None, profile=None, env={})


def test_sections_maps_every_section_name_to_its_value_in_order(config: BotConfig) -> None:
    by_name = sections(config)

    assert list(by_name) == [
        "venue",
        "sim",
        "market_data",
        "runtime",
        "risk",
        "strategy",
        "execution",
        "journal",
        "control",
    ]
    assert by_name["market_data"] is config.market_data


def test_sections_cannot_be_changed_through_the_mapping(config: BotConfig) -> None:
    with pytest.raises(TypeError):
        sections(config)["risk"] = None  # type: ignore[index]


def test_equal_configs_have_an_empty_diff(config: BotConfig) -> None:
    diff = diff_config(config, load_config(None, profile=None, env={}))

    assert not diff
    assert diff.sections == ()
    assert diff.render() == "no changes"


def test_diff_lists_changed_sections_in_order_with_changed_keys(config: BotConfig) -> None:
    new = attrs.evolve(
        config,
        risk=attrs.evolve(config.risk, max_leverage=Decimal(2)),
        market_data=attrs.evolve(config.market_data, short_ma=8, symbols=("BTC-USD",)),
    )

    diff = diff_config(config, new)

    assert diff.sections == ("market_data", "risk")
    assert diff.changed["market_data"] == (
        KeyChange(
            key="market_data.symbols",
            old=("BIP-20DEC30-CDE", "ETP-20DEC30-CDE"),
            new=("BTC-USD",),
        ),
        KeyChange(key="market_data.short_ma", old=5, new=8),
    )
    assert diff.changed["risk"] == (
        KeyChange(key="risk.max_leverage", old=Decimal(3), new=Decimal(2)),
    )


def test_diff_renders_one_header_per_section_and_one_line_per_key(config: BotConfig) -> None:
    new = attrs.evolve(
        config,
        market_data=attrs.evolve(config.market_data, symbols=("BTC-USD",), short_ma=8),
        venue=attrs.evolve(config.venue, rest_base_url="http://127.0.0.1:9000"),
    )

    assert diff_config(config, new).render() == (
        "[venue]\n"
        "  venue.rest_base_url: unset -> http://127.0.0.1:9000\n"
        "[market_data]\n"
        "  market_data.symbols: [BIP-20DEC30-CDE, ETP-20DEC30-CDE] -> [BTC-USD]\n"
        "  market_data.short_ma: 5 -> 8"
    )


def test_diff_of_credentials_does_not_print_the_private_key(
    config: BotConfig, private_pem: str
) -> None:
    credentials = Credentials(key_name="organizations/o/apiKeys/k", private_key_pem=private_pem)
    new = attrs.evolve(config, venue=attrs.evolve(config.venue, credentials=credentials))

    diff = diff_config(config, new)

    assert diff.sections == ("venue",)
    assert private_pem.splitlines()[1] not in diff.render()
    assert "organizations/o/apiKeys/k" in diff.render()


def test_diff_is_computed_from_section_equality_alone(config: BotConfig) -> None:
    same_values = attrs.evolve(config, runtime=attrs.evolve(config.runtime))

    assert diff_config(config, same_values) == ConfigDiff(changed={})
