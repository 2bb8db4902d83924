"""The bot's /metrics, /healthz and /readyz over real HTTP on 127.0.0.1: what its collectors
and checks report of a running tree."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from prometheus_client import CollectorRegistry

from perpsbot.control import Check, Health, MetricsServer, judge
from perpsbot.runtime.testing import eventually
from tests.bot.control.conftest import Bot
from tests.support.metrics import scrape


@pytest.fixture
def served(bot: Bot) -> Iterator[tuple[Bot, str]]:
    with MetricsServer(bot.registry, health=bot.control.health) as server:
        yield bot, server.url


def test_metrics_carry_the_runtime_the_feed_the_marks_and_rest_calls(
    served: tuple[Bot, str],
) -> None:
    _, url = served
    eventually(
        lambda: scrape(url).get(("perpsbot_feed_state", (("state", "subscribed"),))) == 1,
        timeout_s=10,
        what="the feed subscribed",
    )
    samples = scrape(url)

    def value(name: str, **labels: str) -> float:
        return samples[(name, tuple(sorted(labels.items())))]

    for actor in ("bot/marks", "bot/streamer", "bot/poller", "bot/reporter"):
        assert value("perpsbot_actor_mailbox_depth", actor=actor) >= 0
        assert value("perpsbot_actor_dead_letters_total", actor=actor) == 0
        assert value("perpsbot_actor_restarts_total", actor=actor) == 0
        assert value("perpsbot_actor_running", actor=actor) == 1
    assert value("perpsbot_actor_handled_total", actor="bot/marks") > 0
    assert value("perpsbot_actor_handler_seconds_total", actor="bot/marks") > 0
    assert value("perpsbot_feed_frames_total") > 0
    assert value("perpsbot_feed_gaps_total") == 0
    assert value("perpsbot_feed_reconnects_total") == 0
    assert 0 <= value("perpsbot_feed_data_age_seconds") < 5
    lagged = value("perpsbot_feed_lag_seconds_count")
    assert lagged > 0
    assert value("perpsbot_feed_lag_seconds_bucket", le="+Inf") == lagged
    assert value("perpsbot_feed_lag_seconds_bucket", le="0.001") <= lagged
    assert 0 <= value("perpsbot_feed_lag_seconds_sum") / lagged < 1.0  # loopback: milliseconds
    assert value("perpsbot_marks_total", source="stream") > 0
    assert value("perpsbot_marks_total", source="poll") >= 0
    assert value("perpsbot_mark_age_seconds", symbol="BTC-USD") < 5
    assert value("perpsbot_rest_requests_total", outcome="ok") > 0  # product lookups, polls
    assert value("perpsbot_rest_requests_total", outcome="rate_limited") == 0
    assert value("perpsbot_escalated") == 0


def test_metrics_carry_the_trading_state_orders_pnl_the_journal_and_reconciliation(
    served: tuple[Bot, str],
) -> None:
    _, url = served
    eventually(
        lambda: scrape(url).get(("perpsbot_trading_state", (("state", "active"),))) == 1,
        timeout_s=10,
        what="trading ACTIVE",
    )
    eventually(
        lambda: ("perpsbot_realized_pnl_usd", ()) in scrape(url),
        timeout_s=10,
        what="a risk snapshot",
    )
    samples = scrape(url)

    def value(name: str, **labels: str) -> float:
        return samples[(name, tuple(sorted(labels.items())))]

    assert value("perpsbot_trading_state", state="reducing") == 0
    assert value("perpsbot_trading_state", state="halted") == 0
    assert value("perpsbot_trading_holds") == 0
    assert value("perpsbot_equity_usd") > 0
    for name in (
        "perpsbot_exposure_usd",
        "perpsbot_daily_pnl_usd",
        "perpsbot_realized_pnl_usd",
        "perpsbot_unrealized_pnl_usd",
    ):
        assert (name, ()) in samples
    assert value("perpsbot_orders_total", status="filled", terminal="true") >= 0
    assert value("perpsbot_orders_total", status="acknowledged", terminal="false") >= 0
    assert value("perpsbot_open_orders") >= 0
    assert value("perpsbot_fills_total") >= 0
    assert value("perpsbot_reconciled") == 1
    assert value("perpsbot_reconciliations_total", outcome="success") >= 1
    assert value("perpsbot_reconciliations_total", outcome="failure") == 0
    assert 0 <= value("perpsbot_reconciliation_age_seconds") < 60
    assert value("perpsbot_journal_commits_total") > 0
    assert value("perpsbot_journal_events_written_total") > 0
    assert value("perpsbot_journal_write_errors_total") == 0
    assert value("perpsbot_journal_fill_conflicts_total") == 0
    assert value("perpsbot_journal_pending") >= 0


def test_a_restart_shows_in_the_restart_counter(served: tuple[Bot, str]) -> None:
    bot, url = served
    bot.control.operator().restart("bot/poller")
    assert scrape(url)[("perpsbot_actor_restarts_total", (("actor", "bot/poller"),))] == 1


def test_health_endpoints_answer_200_when_well_and_503_with_the_problems(
    served: tuple[Bot, str],
) -> None:
    _, url = served
    assert requests.get(f"{url}/healthz", timeout=5).json() == {
        "live": True,
        "ready": True,
        "problems": [],
    }
    assert requests.get(f"{url}/readyz", timeout=5).status_code == 200
    assert requests.get(f"{url}/nowhere", timeout=5).status_code == 404

    verdict: list[Health] = [judge([Check(name="marks", problem=lambda: "BTC-USD is stale")])]
    with MetricsServer(CollectorRegistry(), health=lambda: verdict[0]) as server:
        healthz = requests.get(f"{server.url}/healthz", timeout=5)
        readyz = requests.get(f"{server.url}/readyz", timeout=5)
        assert (healthz.status_code, readyz.status_code) == (200, 503)
        assert readyz.json()["problems"] == ["marks: BTC-USD is stale"]
        verdict[0] = judge([Check(name="escalation", problem=lambda: "gave up", liveness=True)])
        assert requests.get(f"{server.url}/healthz", timeout=5).status_code == 503
