"""/metrics, /healthz and /readyz over real HTTP on 127.0.0.1."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
import requests
from prometheus_client import CollectorRegistry
from prometheus_client.registry import Collector, Metric

from perpsbot.control import MetricsServer, RestOutcomes, judge
from perpsbot.errors import ControlPlaneError
from tests.support.metrics import scrape


def test_rest_outcomes_start_at_zero_for_every_outcome() -> None:
    registry = CollectorRegistry()
    outcomes = RestOutcomes(registry)
    outcomes.record("transport_error")
    with MetricsServer(registry, health=lambda: judge([])) as server:
        samples = scrape(server.url)
    assert samples[("perpsbot_rest_requests_total", (("outcome", "transport_error"),))] == 1
    assert samples[("perpsbot_rest_requests_total", (("outcome", "ok"),))] == 0


def test_a_taken_port_is_an_error_naming_the_key() -> None:
    with MetricsServer(CollectorRegistry(), health=lambda: judge([])) as first:
        second = MetricsServer(CollectorRegistry(), health=lambda: judge([]), port=first.port)
        with pytest.raises(ControlPlaneError, match=r"choose another control\.metrics_port"):
            second.start()


@pytest.mark.slow  # long: a stalled client is held for the server's real read timeout
def test_a_stalled_client_delays_no_probe_and_prints_no_traceback(
    capfd: pytest.CaptureFixture[str],
) -> None:
    # A server that waited for the stalled client first would answer the probe after its 2 s
    # request timeout, too late for the probe's 1.5 s; a busy machine answers well within.
    with (
        MetricsServer(
            CollectorRegistry(), health=lambda: judge([]), request_timeout_s=2.0
        ) as server,
        socket.create_connection(("127.0.0.1", server.port)) as stalled,
    ):
        stalled.settimeout(10)
        stalled.sendall(b"GET /healthz HTTP/1.1\r\n")  # and never the rest
        assert requests.get(f"{server.url}/healthz", timeout=1.5).status_code == 200
        assert stalled.recv(100) == b""  # the server gave up on it after its timeout
    assert "Traceback" not in capfd.readouterr().err


def test_a_collector_that_raises_is_a_500_and_a_log_line(caplog: pytest.LogCaptureFixture) -> None:
    class Broken(Collector):
        def collect(self) -> Iterator[Metric]:
            raise KeyError("bug")

    registry = CollectorRegistry()
    registry.register(Broken())
    with MetricsServer(registry, health=lambda: judge([])) as server:
        assert requests.get(f"{server.url}/metrics", timeout=5).status_code == 500
        assert requests.get(f"{server.url}/healthz", timeout=5).status_code == 200
    assert "serving /metrics failed" in caplog.text
