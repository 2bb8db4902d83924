"""The bot's control plane model on the real market-data tree and an embedded exchange."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import attrs
import pytest
import requests

from perpsbot.control import AuditRecord, Session, Table
from perpsbot.errors import InvalidConfigError
from perpsbot.runtime.testing import eventually
from tests.bot.control.conftest import Bot

VENUE_USERS = {"bot/executor", "bot/streamer", "bot/poller", "bot/userfeed"}


def test_marks_shows_every_symbol_and_one_symbol_with_its_window(bot: Bot) -> None:
    ops = bot.control.operator()
    table = ops.marks()
    assert isinstance(table, Table)
    assert table.column("symbol") == ["BTC-USD", "ETH-USD"]
    for row in table:
        assert isinstance(row["mark"], Decimal)
        assert row["mark"] > 0
        assert row["source"] in ("stream", "poll")
        assert 0 <= row["age_s"] < 10  # seconds since the mark: fresh, even on a busy machine
    one = ops.marks("ETH-USD")
    assert one["symbol"] == "ETH-USD"
    assert Decimal(one["mark"]) > 0
    with pytest.raises(KeyError, match="'DOGE-USD' is not a configured symbol"):
        ops.marks("DOGE-USD")


def test_feed_reports_the_streamer_and_the_poller(bot: Bot) -> None:
    ops = bot.control.operator()
    eventually(
        lambda: ops.feed()["state"] == "subscribed" and ops.feed()["poller"]["mode"] == "idle",
        timeout_s=10,
        what="the feed subscribed and the poller idle",
    )
    feed = ops.feed()
    assert feed["feed"]["frames"] > 0
    assert feed["poller"]["mode"] == "idle"
    assert set(feed["books_ready"]) == {"BTC-USD", "ETH-USD"}
    assert feed["lag"]["count"] > 0
    assert 0 <= feed["lag"]["latest_s"] < 5


def test_config_is_toml_without_secrets_and_the_shell_redacts_a_key_reached_on_purpose(
    bot: Bot,
) -> None:
    pem = bot.control.config.venue.credentials.private_key_pem  # type: ignore[union-attr]
    body = [line for line in pem.splitlines() if not line.startswith("-----")]
    shown = bot.control.operator().config()
    assert "[market_data]" in shown
    assert not any(line in shown for line in body)
    session = Session(bot.control.operator("t").namespace(), redact=bot.control.redact)
    output, failed = session.run("config.__self__.control.config.venue.credentials.private_key_pem")
    assert not failed
    assert "<redacted>" in output
    assert not any(line in output for line in body)


def test_status_carries_the_tree_the_feed_health_and_the_trading_state(bot: Bot) -> None:
    eventually(lambda: bot.control.operator().feed()["state"] == "subscribed", timeout_s=10)
    eventually(
        lambda: bot.control.operator().trading()["state"] == "active",
        timeout_s=10,
        what="trading ACTIVE",
    )
    status = bot.control.status()
    paths = [a["path"] for a in status["actors"]]
    assert paths == [
        "bot",
        "bot/journal",
        "bot/portfolio",
        "bot/risk",
        "bot/executor",
        "bot/marks",
        "bot/strategy",
        "bot/streamer",
        "bot/poller",
        "bot/userfeed",
        "bot/reporter",
    ]
    marks = status["actors"][5]
    assert {"mailbox_depth", "restarts", "dead_letters", "last_message_age_s"} <= set(marks)
    assert status["health"] == {"live": True, "ready": True, "problems": []}
    assert status["feed"]["state"] == "subscribed"
    trading = status["trading"]
    assert (trading["state"], trading["reasons"]) == ("active", [])
    assert Decimal(trading["equity"]) > 0
    assert trading["reconciliation"]["done"] is True
    orders, positions = trading["open_orders"], trading["positions"]  # the strategy trades
    assert status["journal"]["fill_conflicts"] == 0
    text = bot.control.render(status)
    assert "trading   ACTIVE\n" in text
    assert " duplicates ignored, 0 write errors, " in text
    assert f"{orders} open orders, {positions} positions; reconciliation done (" in text
    assert "health    live, ready" in text
    assert re.search(r"\n  streamer +StreamerActor ", text), text
    assert re.search(r"\n  userfeed +UserFeedActor ", text), text
    assert re.search(r"ago, lag \d+\.\d ms \(mean \d+\.\d ms\); poller ", text), text


def test_a_venue_change_restarts_only_the_actors_that_use_the_venue(bot: Bot) -> None:
    before = bot.incarnations()
    sim_url = bot.venues.current.rest_base_url  # type: ignore[union-attr]
    config = bot.control.config
    bot.next_config = attrs.evolve(config, venue=attrs.evolve(config.venue, request_timeout_s=3.0))
    outcome = bot.control.operator().reload()
    assert "restart bot/streamer" in outcome
    after = bot.incarnations()
    changed = {path for path in after if after[path] != before[path]}
    assert changed == VENUE_USERS
    assert bot.venues.current.rest_base_url == sim_url  # type: ignore[union-attr]  # same sim
    eventually(lambda: bot.control.health().ready, timeout_s=10, what="fresh marks again")


def test_a_sim_change_waits_for_a_restart_the_running_exchange_keeps_the_paper_account(
    bot: Bot,
) -> None:
    old_url = bot.venues.current.rest_base_url  # type: ignore[union-attr]
    config = bot.control.config
    bot.next_config = attrs.evolve(config, sim=attrs.evolve(config.sim, seed=8))
    assert bot.control.reload("test").applied
    assert bot.venues.current.rest_base_url == old_url  # type: ignore[union-attr]
    assert requests.get(f"{old_url}/time", timeout=2).status_code == 200


def test_a_journal_elsewhere_starts_an_exchange_on_the_paper_account_beside_it(
    bot: Bot, tmp_path: Path
) -> None:
    old_url = bot.venues.current.rest_base_url  # type: ignore[union-attr]
    config = bot.control.config
    moved = tmp_path / "moved" / "journal.sqlite3"
    bot.next_config = attrs.evolve(config, journal=attrs.evolve(config.journal, path=moved))
    assert bot.control.reload("test").applied
    assert bot.venues.current.rest_base_url != old_url  # type: ignore[union-attr]
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{old_url}/time", timeout=2)
    eventually(lambda: bot.control.health().ready, timeout_s=10, what="marks from the new sim")
    assert (tmp_path / "moved" / "sim" / "state.sqlite3").is_file()


def test_an_invalid_reload_is_rejected_and_audited(bot: Bot) -> None:
    records: list[AuditRecord] = []
    bot.control.audit = records.append
    running = bot.control.config
    bot.next_config = InvalidConfigError("market_data.short_ma must be a positive integer")
    shown = bot.control.operator("shell uid=0 pid=1").reload()
    rejection = (
        "reload rejected, the running configuration stays:"
        " market_data.short_ma must be a positive integer"
    )
    assert shown == rejection
    assert bot.control.config is running
    assert records == [
        AuditRecord(operator="shell uid=0 pid=1", action="reload()", outcome=rejection)
    ]
