"""Start and stop: URLs, bounded shutdown that leaves no thread or socket behind, misuse errors."""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

import pytest
import requests

from perpsbot.clock import FakeClock
from perpsbot.errors import SimLifecycleError
from perpsbot.runtime.testing import eventually
from perpsbot.sim import SimConfig, SimExchange
from tests.sim.conftest import TIMEOUT_S


def _config() -> SimConfig:
    return SimConfig(verify_auth=False, tick_interval_s=0.01)


def test_urls_name_loopback_ports_and_coinbase_paths() -> None:
    with SimExchange(_config(), clock=FakeClock()) as sim:
        assert sim.rest_base_url == f"http://127.0.0.1:{sim.rest_port}/api/v3/brokerage"
        assert sim.market_ws_url == f"ws://127.0.0.1:{sim.ws_port}/ws"
        assert sim.user_ws_url == f"ws://127.0.0.1:{sim.ws_port}/ws-user"
        assert sim.rest_port != sim.ws_port


def test_stop_ends_every_thread_it_started_even_with_requests_in_flight() -> None:
    before = set(threading.enumerate())
    sim = SimExchange(_config(), clock=FakeClock()).start()
    session = requests.Session()
    assert (
        session.get(sim.rest_base_url + "/time", timeout=TIMEOUT_S).status_code == 200
    )  # keep-alive
    sim.faults.slow_responses(delay_s=30, count=1)

    def slow_call() -> None:
        # Cut off by the stop, or answered if the stop came first: either way it returns.
        with contextlib.suppress(requests.RequestException):
            requests.get(sim.rest_base_url + "/time", timeout=TIMEOUT_S)

    caller = threading.Thread(target=slow_call)
    caller.start()
    eventually(
        lambda: len(threading.enumerate()) >= len(before) + 5, what="the slow request is in flight"
    )

    sim.stop()
    caller.join(TIMEOUT_S)
    session.close()

    assert not caller.is_alive()
    assert set(threading.enumerate()) - before == set()


def _listens_here(port: int) -> bool:
    """Whether a socket of this process listens on ``port`` (Linux's /proc): unlike a
    connection attempt, not fooled by another test process that got the port once freed."""
    ours = set()
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # closed meanwhile
            ours.add(os.readlink(f"/proc/self/fd/{fd}"))
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, state, inode = fields[1], fields[3], fields[9]
        listening = state == "0A" and int(local.rsplit(":", 1)[1], 16) == port  # 0A: LISTEN
        if listening and f"socket:[{inode}]" in ours:
            return True
    return False


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's /proc")
def test_a_stopped_sim_no_longer_listens_on_its_ports() -> None:
    sim = SimExchange(_config(), clock=FakeClock()).start()
    ports = (sim.rest_port, sim.ws_port)
    assert all(_listens_here(port) for port in ports)

    sim.stop()

    assert not any(_listens_here(port) for port in ports)


def test_starting_twice_is_a_lifecycle_error() -> None:
    with SimExchange(_config(), clock=FakeClock()) as sim, pytest.raises(SimLifecycleError):
        sim.start()


def test_ports_are_unknown_before_start() -> None:
    sim = SimExchange(_config(), clock=FakeClock())

    with pytest.raises(SimLifecycleError, match="only after start"):
        _ = sim.rest_base_url


def test_stopping_twice_is_harmless() -> None:
    sim = SimExchange(_config(), clock=FakeClock()).start()

    sim.stop()
    sim.stop()
