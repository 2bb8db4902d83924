"""The control plane opens what the configuration asks for and follows its changes."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest
import requests
from prometheus_client import CollectorRegistry

from perpsbot.bot.control import BotControl, ControlPlane, socket_path
from perpsbot.config import BotConfig
from perpsbot.control import ShellClient
from tests.bot.control.conftest import Bot


def _with_control(config: BotConfig, **changes: object) -> BotConfig:
    return attrs.evolve(config, control=attrs.evolve(config.control, **changes))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def plane(bot: Bot, tmp_path: Path) -> Iterator[tuple[ControlPlane, BotControl, list[str]]]:
    config_file = tmp_path / "bot.toml"
    config_file.write_text("")
    control = BotControl(
        bot.system,
        config=_with_control(bot.control.config, metrics=True),
        config_file=config_file,
    )
    reloads: list[str] = []
    registry = CollectorRegistry(auto_describe=False)
    with ControlPlane(control, registry=registry, request_reload=reloads.append) as plane:
        yield plane, control, reloads


def test_the_socket_lives_beside_the_journal_unless_configured(bot: Bot, tmp_path: Path) -> None:
    config = bot.control.config
    assert socket_path(config) == config.journal.path.parent / "control" / "shell.sock"
    elsewhere = tmp_path / "run" / "bot.sock"
    assert socket_path(_with_control(config, socket_path=elsewhere)) == elsewhere


def test_a_started_plane_serves_the_shell_status_and_metrics(
    plane: tuple[ControlPlane, BotControl, list[str]],
) -> None:
    running, control, _ = plane
    assert running.watching
    with ShellClient(Path(control.endpoints["socket"])) as client:
        assert client.hello["helpers"][:3] == ["help", "actors", "tree"]
        reply = client.status()
        assert reply["status"]["endpoints"] == control.endpoints
        assert reply["text"].startswith("perpsbot ")
        assert client.run("len(marks())") == ("2\n", False)
    assert requests.get(control.endpoints["metrics"], timeout=5).status_code == 200


def test_a_reload_turns_metrics_and_the_watch_off_and_on_again(
    plane: tuple[ControlPlane, BotControl, list[str]],
) -> None:
    running, control, _ = plane
    old_url = control.endpoints["metrics"]
    running.apply(_with_control(control.config, metrics=False, watch_config=False))
    assert "metrics" not in control.endpoints
    assert not running.watching
    with pytest.raises(requests.ConnectionError):
        requests.get(old_url, timeout=5)
    port = _free_port()
    running.apply(_with_control(control.config, metrics=True, metrics_port=port))
    assert control.endpoints["metrics"] == f"http://127.0.0.1:{port}/metrics"
    assert requests.get(control.endpoints["metrics"], timeout=5).status_code == 200
    assert running.watching


def test_a_reload_to_a_taken_metrics_port_keeps_the_endpoint_where_it_was(
    plane: tuple[ControlPlane, BotControl, list[str]], caplog: pytest.LogCaptureFixture
) -> None:
    running, control, _ = plane
    serving = control.endpoints["metrics"]
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        running.apply(_with_control(control.config, metrics_port=port))
    assert control.endpoints["metrics"] == serving
    assert requests.get(serving, timeout=5).status_code == 200
    assert f"could not listen on 127.0.0.1:{port}" in caplog.text
    assert "metrics stay at http://127.0.0.1:" in caplog.text


def test_the_shell_shows_typed_states_and_the_status_document_keeps_its_keys(
    plane: tuple[ControlPlane, BotControl, list[str]],
) -> None:
    _, control, _ = plane
    with ShellClient(Path(control.endpoints["socket"])) as client:
        output, failed = client.run("state('bot/risk')")
        assert not failed, output
        assert output.startswith("RiskState(state=<TradingState."), output
        assert client.run("state('bot/journal').events_written >= 0") == ("True\n", False)
        status = client.status()["status"]
    # What crossed the socket as JSON: the keys scripts read from `perpsbot status --json`.
    assert set(status["feed"]) == {
        "state", "detail", "channels", "symbols", "feed_restarts", "feed", "gaps",
        "reconnects", "marks_sent", "last_data_age_s", "bad_timestamps", "lag", "books_ready",
        "poller",
    }  # fmt: skip
    assert isinstance(status["feed"]["state"], str)
    assert set(status["feed"]["poller"]) == {"mode", "polls"}
    assert set(status["trading"]) == {
        "state", "reasons", "equity", "daily_pnl", "realized_pnl", "unrealized_pnl",
        "exposure", "positions", "open_orders", "reconciliation",
    }  # fmt: skip
    assert isinstance(status["trading"]["daily_pnl"], str)
    assert set(status["journal"]) == {
        "path", "events_written", "duplicates_ignored", "fill_conflicts", "write_errors",
        "pending",
    }  # fmt: skip
